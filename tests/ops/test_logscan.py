"""The run-wide personal-data check finds full numbers and lets masked ones pass."""

from tests.support.logscan import leaks


def test_full_numbers_in_any_form_are_found():
    lines = [
        '{"event": "x", "to": "84905123456"}\n',
        '{"event": "x", "to": "+84905123456"}\n',
        '{"event": "x", "to": "0905123456"}\n',
    ]

    assert len(leaks(iter(lines))) == 3


def test_masked_numbers_and_other_digits_pass():
    lines = [
        '{"event": "x", "to": "8490*****56"}\n',
        '{"event": "x", "message_id": "1626BC6E", "port": 35621}\n',
        '{"event": "x", "receipt_no": "000.00.06.H56-231027-0361"}\n',
    ]

    assert leaks(iter(lines)) == []


def test_logging_to_stderr_follows_a_swapped_stderr(monkeypatch):
    """A line goes to the stderr of the moment: an old, closed one is never written to."""
    import io

    import structlog

    from gateway.ops.logs import configure_logging

    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging(json=True)
    first.close()
    monkeypatch.setattr("sys.stderr", second)
    structlog.get_logger("t").info("after_swap")
    assert "after_swap" in second.getvalue()
