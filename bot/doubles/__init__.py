"""Local stand-ins for VTEX and Slack, speaking their real wire formats.

They live in the package (not under tests/) because the sandbox, the playground and the benchmark
use the same ones as the tests.
"""
