"""NHS number rules (Modulus 11) in one place: a wrong patient is the worst error a viewer can make."""

from __future__ import annotations

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise(text: str) -> str:
    """Strip the spaces and dashes people type, so `943 476 5919` and `9434765919` are one number."""
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def check_digit(first_nine: str) -> int | None:
    """Return the Modulus 11 check digit for nine digits, or None where no valid number can exist (10)."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("check_digit needs exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid(text: str) -> bool:
    """True when the text is ten digits whose last digit is the Modulus 11 check digit."""
    number = normalise(text)
    if len(number) != 10 or not number.isdigit():
        return False
    return check_digit(number[:9]) == int(number[9])


def format_nhs_number(text: str) -> str:
    """Display as `3 3 4` (`943 476 5919`), as the NHS CUI guidance asks; other input comes back as given."""
    number = normalise(text)
    if len(number) != 10 or not number.isdigit():
        return text
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def is_synthetic(text: str) -> bool:
    """True for the never-issued test range 999 000 0000 - 999 999 9999."""
    number = normalise(text)
    return len(number) == 10 and number.isdigit() and number.startswith("999")
