"""Words in a sentence to a student: counts ('1 epoch', '10 epochs': epochs, runs and snapshots
can be one), what the student gave, repeated back ('banana'), two numbers set side by side, and a
probability or an accuracy."""

from __future__ import annotations

QUOTED_LENGTH = 60  # characters of a student's own text a message repeats


def quoted(value: object) -> str:
    """A value someone gave, as a message repeats it: in quotes if it is text, with any control
    character written out (repr), and a long text cut short with its length, so that a pasted page
    or a crafted link does not become the whole message."""
    shown = repr(value)
    if not isinstance(value, str) or len(shown) <= QUOTED_LENGTH + 2:
        return shown
    return f"{shown[: QUOTED_LENGTH + 1]}…{shown[0]} ({len(value):,} characters)"


def counted(count: int, noun: str) -> str:
    """The count and its noun, singular for one: counted(1, "epoch") == "1 epoch"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def counted_are(count: int, noun: str) -> str:
    """The count and its noun as the subject of a sentence: '1 run is', '3 runs are'."""
    return f"{counted(count, noun)} {'is' if count == 1 else 'are'}"


def counted_were(count: int, noun: str) -> str:
    """The same in the past: '1 run was', '3 runs were'."""
    return f"{counted(count, noun)} {'was' if count == 1 else 'were'}"


def apart(first: float, second: float, kind: str = "g", least: int = 4) -> tuple[str, str]:
    """Two numbers a sentence sets side by side, written with `least` digits (significant digits for
    kind "g", decimals for "f") or as many more as it takes for them to read differently, up to six
    more: a loss that "goes from 0.001438 to 0.001272", not "from 0.0014 to 0.0014"."""
    for digits in range(least, least + 7):
        shown = f"{first:,.{digits}{kind}}", f"{second:,.{digits}{kind}}"
        if shown[0] != shown[1]:
            break
    return shown


def percent(share: float, exact_ends: bool = False, significant: int | None = None, decimals: int = 1) -> str:
    """A probability or an accuracy as a student reads it, to `decimals` decimals ('62.0%'; the lab
    sheet's test accuracy has two, '87.50%') or to `significant` digits ('96.38%', Train's sentences
    that follow a curve), and never as a certainty it is not: one that would read 100.0% reads
    '> 99.9%' (at two decimals or four significant digits, '> 99.99%'), and 0.0% reads '< 0.1%'. A
    softmax's probability is never exactly 1 or 0, even where float32 rounds it there; an accuracy
    can be (`exact_ends`: every sequence right reads 100.0%, 1,999 of 2,000 '> 99.9%')."""
    shown = f"{100 * share:.{significant}g}" if significant else f"{100 * share:.{decimals}f}"
    if exact_ends and share in (0, 1):
        return f"{shown}%"
    if significant:
        decimals = significant - 2  # of the closest number below 100 so written
    if float(shown) == 100:
        return f"> {100 - 10**-decimals:.{decimals}f}%"
    if float(shown) == 0:
        return f"< {10**-decimals:.{decimals}f}%"
    return f"{shown}%"
