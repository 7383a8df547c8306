"""Argument checking shared by the experiment scripts under benchmarks/ (project rule: bad input
gives one "error: ..." line on stderr naming the option and the allowed range, exit status 2, no
traceback, and nothing is written before the input is checked).

    from script_args import ArgumentParser, positive_int, run
    ap = ArgumentParser(description=...)
    ap.add_argument("--n", type=positive_int, default=100)
    ...
    if __name__ == "__main__":
        run(main)
"""
from __future__ import annotations

import argparse
import math
import os
import sys

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line input found after parsing (the message names the option and what is allowed)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a parse error is one line "error: ..." on stderr (no usage block), exit 2."""

    def error(self, message):
        fail(message)


def fail(message: str) -> None:
    """Print one line "error: <message>" on stderr and exit with status 2."""
    print("error: " + " ".join(str(message).split()), file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _number(kind, lo: float, strict: bool, what: str):
    def check(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(v) or (v <= lo if strict else v < lo):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return v
    check.__name__ = what
    return check


positive_int = _number(int, 0, True, "an integer >= 1")
non_negative_int = _number(int, 0, False, "an integer >= 0")
positive_float = _number(float, 0.0, True, "a number > 0")


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return v


def number_pair(text: str) -> tuple[float, float]:
    """argparse type: "a,b", two finite numbers."""
    try:
        vals = tuple(float(x) for x in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 2 or not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"must be two numbers as a,b, got {text!r}")
    return vals


def existing_file(text: str) -> str:
    """argparse type: a path to an existing file."""
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return text


def parse_overrides(items, fields, convert, option: str = "--set") -> dict:
    """'name=value' items -> {name: convert(name, value)}, checking the form, that name is one of
    `fields` and that the value converts; otherwise UsageError naming `option`."""
    kw = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep or not k:
            raise UsageError(f"{option}: expected name=value, got {it!r}")
        if k not in fields:
            raise UsageError(f"{option}: unknown parameter {k!r} (allowed: {', '.join(sorted(fields))})")
        try:
            kw[k] = convert(k, v)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"{option}: {k} {exc}") from None
        except (TypeError, ValueError):
            raise UsageError(f"{option}: {k}={v!r} is not a valid value for {k}") from None
    return kw


def field_value(default, text: str):
    """`text` as a new value for a dataclass field whose default is `default`: a field that
    defaults to None takes a number or "none", a bool true/false/yes/no/1/0, an int a whole
    number, a str the text itself, anything else a float. ValueError otherwise."""
    if default is None:
        return None if text.lower() == "none" else float(text)
    if isinstance(default, bool):
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if text.lower() not in words:
            raise ValueError(text)
        return words[text.lower()]
    if isinstance(default, int):
        value = float(text)
        if not value.is_integer():
            raise ValueError(text)
        return int(value)
    return text if isinstance(default, str) else float(text)


def dataclass_overrides(params, items, option: str = "--set") -> dict:
    """'name=value' items -> {name: value} for the fields of the dataclass instance `params`,
    each converted by field_value from that field's current value."""
    return parse_overrides(items, params.__dataclass_fields__, lambda k, v: field_value(getattr(params, k), v),
                           option)


def run(main, *args, **kwargs):
    """Call main(); bad input (UsageError, eventsim.EventsimError, a missing file) becomes one
    "error: ..." line on stderr and exit status 2 instead of a traceback."""
    from eventsim.errors import EventsimError
    try:
        return main(*args, **kwargs)
    except (UsageError, EventsimError, FileNotFoundError) as exc:
        msg = str(exc)
        if isinstance(exc, FileNotFoundError) and exc.filename and not isinstance(exc, EventsimError):
            msg = f"file not found: {exc.filename}"
        fail(msg)
