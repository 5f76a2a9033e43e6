import pytest

from viewer.domain.nhs_number import check_digit, format_nhs_number, is_synthetic, is_valid, normalise


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919", "9999999999"])
def test_valid_numbers(number):
    assert is_valid(number)


@pytest.mark.parametrize("number", ["9434765918", "943476591", "94347659190", "abcdefghij", "", "9432003812"])
def test_invalid_numbers(number):
    assert not is_valid(number)


def test_check_digit_eleven_becomes_zero_and_ten_is_impossible():
    # 999000001? weights: find a prefix whose remainder is 0 -> check 11 -> 0
    prefixes = [f"{n:09d}" for n in range(999000000, 999000200)]
    zeros = [p for p in prefixes if check_digit(p) == 0]
    impossible = [p for p in prefixes if check_digit(p) is None]
    assert zeros and impossible
    assert all(is_valid(p + "0") for p in zeros)
    assert not any(is_valid(p + d) for p in impossible for d in "0123456789")


def test_check_digit_rejects_bad_input():
    with pytest.raises(ValueError):
        check_digit("12345")


def test_format_and_normalise():
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("not a number") == "not a number"
    assert normalise(" 943 476-5919 ") == "9434765919"


def test_synthetic_range():
    assert is_synthetic("999 000 0018")
    assert not is_synthetic("9434765919")
