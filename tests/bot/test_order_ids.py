import pytest

from bot.errors import InvalidOrderId
from bot.order_ids import find_order_ids, validate_order_id


@pytest.mark.parametrize(
    "oid",
    [
        "1172452900788-01",
        "527103869572-02",
        "v527103anml-01",
        "SLR-v527103anml-01",
        "GHB-123456789",
        "MLB-2000-ABC-9",
        "seq501456",
        "  1172452900788-01 ",
    ],
)
def test_valid_formats_pass(oid):
    assert validate_order_id(oid) == oid.strip()


@pytest.mark.parametrize(
    "oid",
    [
        "",
        "   ",
        "../1172452900788-01",
        "1172452900788-01/invoice",
        "1172452900788-01;x",
        "11724 52900788-01",
        "1172452900788-01\n-02",
        "abc\x00-01",
        "a" * 81 + "1",
        "hello",
        "-01",
        "1172452900788--01",
        "%2e%2e",
        "ordér-01",
    ],
)
def test_anything_else_is_refused_before_a_request(oid):
    with pytest.raises(InvalidOrderId) as info:
        validate_order_id(oid)
    assert "Expected one like" in str(info.value)


def test_ids_are_found_in_a_sentence_in_order_without_duplicates():
    text = "why is order 1234567890123-01 stuck? also seq501456 and 1234567890123-01, SLR-v527103anml-01!"
    assert find_order_ids(text) == ["1234567890123-01", "seq501456", "SLR-v527103anml-01"]


def test_slack_formatting_around_ids_is_ignored():
    text = "<@U123> check *1234567890123-01* and <tel:1172452900788|1172452900788-02> and `v527103anml-01`"
    assert find_order_ids(text) == ["1234567890123-01", "1172452900788-02", "v527103anml-01"]


def test_plain_words_and_numbers_are_not_orders():
    assert find_order_ids("my order is stuck since 2026-11-20, total 25990, call 555-1234") == []


def test_limit_keeps_the_first_ones():
    ids = " ".join(f"12345678901{i:02d}-01" for i in range(8))
    assert len(find_order_ids(ids, limit=5)) == 5
