"""The `unstuck` command: why, serve, audit, playground.

Every failure ends in one line on stderr and a non-zero exit: 1 when VTEX could not answer for an
order, 2 for bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bot.db import DatabaseError
from bot.settings import ConfigError, Settings, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unstuck", description="Explain why VTEX orders are stuck; fix invoices.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    why = sub.add_parser("why", help="explain why orders are stuck", description="Explain why orders are stuck.")
    why.add_argument("orders", nargs="+", metavar="ORDER", help="VTEX order ids, e.g. 1172452900788-01")
    why.add_argument("--json", action="store_true", help="print JSON for machines")
    why.add_argument("--sandbox", action="store_true", help="use the built-in demo store instead of VTEX")
    why.add_argument(
        "--lang",
        choices=["en", "pt-BR", "es"],
        help="the language of the explanation (default: UNSTUCK_LANGUAGE, else en)",
    )
    why.set_defaults(func=cmd_why)

    from bot import cli_app  # the Slack-side commands live apart so `why` stays light

    cli_app.add_commands(sub)
    return parser


def cmd_why(args: argparse.Namespace, settings: Settings) -> int:
    from bot.i18n import use

    with use(args.lang or settings.unstuck_language):
        return _why(args, settings)


def _why(args: argparse.Namespace, settings: Settings) -> int:
    from bot.errors import InvalidOrderId
    from bot.kb import KnowledgeBase
    from bot.lookup import Answer, Failure, look_up
    from bot.order_ids import validate_order_id
    from bot.report import text_report

    for raw in args.orders:
        try:
            validate_order_id(raw)
        except InvalidOrderId as exc:
            print(f"unstuck: {exc.message.replace('`', '')}", file=sys.stderr)
            return 2
    from bot.vtex import vtex_client  # here, so that `unstuck audit` does not pay for VTEX and diagnosis

    kb = KnowledgeBase.load(settings.unstuck_faq_dir)
    client = vtex_client(settings, args.sandbox)
    results: list[Answer | Failure] = []
    try:
        for order_id in args.orders:
            results.append(look_up(client, kb, order_id))
    finally:
        client.close()
    failed = [r for r in results if isinstance(r, Failure)]
    if args.json:
        payload = [
            {"order_id": r.order_id, "ok": False, "error": {"type": type(r.error).__name__, "message": str(r.error)}}
            if isinstance(r, Failure)
            else {"order_id": r.order.order_id, "ok": True, "diagnosis": r.to_dict()}
            for r in results
        ]
        print(json.dumps(payload if len(payload) > 1 else payload[0], indent=2, ensure_ascii=False))
    else:
        reports = [text_report(r) for r in results if isinstance(r, Answer)]
        if reports:
            print("\n\n".join(reports))
    for failure in failed:
        print(f"unstuck: {failure.order_id}: {failure.error}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.func(args, settings) or 0)
    except ConfigError as exc:
        print(f"unstuck: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"unstuck: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:  # e.g. PostgreSQL unreachable at start: one line, never the password
        print(f"unstuck: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
