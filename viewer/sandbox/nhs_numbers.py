"""NHS number arithmetic for the sandbox, kept apart from `viewer.domain` on purpose.

The sandbox must not share code with the consumer side (ARCHITECTURE.md): if both used one
Modulus-11 routine, a bug in it would make the sandbox and the viewer agree on wrong numbers.
Synthetic numbers come from the never-issued range 999 000 0000 - 999 999 9999.
"""

from __future__ import annotations

from collections.abc import Iterator

FIRST_SYNTHETIC_STEM = 999_000_000
LAST_SYNTHETIC_STEM = 999_999_999
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(nine: str) -> int | None:
    """The Modulus-11 check digit for nine digits, or None when no valid number has that stem.

    A remainder that makes the check 10 means the stem is never issued; 11 becomes 0.
    """
    if len(nine) != 9 or not nine.isascii() or not nine.isdigit():
        raise ValueError("an NHS number stem is exactly nine ASCII digits")
    total = sum(int(d) * w for d, w in zip(nine, _WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    """True for ten ASCII digits whose last digit is the Modulus-11 check of the first nine."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:9]) == int(value[9])


def is_synthetic(value: str) -> bool:
    """True for a valid number in the never-issued 999 range that all sandbox data must use."""
    return is_valid_nhs_number(value) and value.startswith("999")


def synthetic_numbers(start_serial: int = 0) -> Iterator[str]:
    """Every valid synthetic number, in order, starting from the `start_serial`-th one."""
    serial = 0
    for stem in range(FIRST_SYNTHETIC_STEM, LAST_SYNTHETIC_STEM + 1):
        digit = check_digit(str(stem))
        if digit is None:
            continue
        if serial >= start_serial:
            yield f"{stem}{digit}"
        serial += 1


def make_nhs_number(serial: int) -> str:
    """The `serial`-th valid synthetic NHS number (0-based); stems whose check would be 10 are skipped.

    Counting valid numbers rather than stems keeps distinct serials giving distinct numbers.
    """
    if serial < 0:
        raise ValueError("serial must not be negative")
    for number in synthetic_numbers(serial):
        return number
    raise ValueError("serial is beyond the synthetic NHS number range")
