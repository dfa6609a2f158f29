from datetime import date

import pytest

from tracker.deadlines import DeadlineError, parse_deadline


@pytest.mark.parametrize("text, expected", [
    ("2023年12月底前", date(2023, 12, 31)),
    ("2023年12月", date(2023, 12, 31)),
    ("2024年6月底前", date(2024, 6, 30)),
    ("2024年2月底前", date(2024, 2, 29)),   # leap year
    ("2023年2月底前", date(2023, 2, 28)),
    ("2100年2月", date(2100, 2, 28)),       # century, not a leap year
    ("2000年2月", date(2000, 2, 29)),       # divisible by 400
    ("2024年底前", date(2024, 12, 31)),
    ("2024年", date(2024, 12, 31)),
    ("2024年年底前", date(2024, 12, 31)),
    ("2024年第三季度", date(2024, 9, 30)),
    ("2024年三季度末", date(2024, 9, 30)),
    ("2024年第一季度", date(2024, 3, 31)),
    ("2025年第二季度", date(2025, 6, 30)),
    ("2025年第四季度", date(2025, 12, 31)),
    ("2024年上半年", date(2024, 6, 30)),
    ("2024年下半年", date(2024, 12, 31)),
    ("2025年10月15日前", date(2025, 10, 15)),
    ("2025年10月15日", date(2025, 10, 15)),
    ("2025-10-15", date(2025, 10, 15)),
    ("2024-02-29", date(2024, 2, 29)),
    (" 2024年6月底前 ", date(2024, 6, 30)),
    ("2024年 6月底前", date(2024, 6, 30)),
])
def test_parses_accepted_forms(text, expected):
    assert parse_deadline(text) == expected


@pytest.mark.parametrize("text", ["长期坚持", "持续推进", "长期"])
def test_ongoing_phrases_have_no_deadline(text):
    assert parse_deadline(text) is None


@pytest.mark.parametrize("text", [
    "2024年13月底前", "2024年0月", "2023年2月29日前", "2024年2月30日", "2025-10-32", "2023-02-29",
    "2024年第五季度", "2024年中", "年底前", "下个月", "2024.6.30", "24年6月", "尽快", "2024年6月底前完成并验收",
    "abc", "1899年", "12345年",
])
def test_rejects_everything_else_naming_the_text(text):
    with pytest.raises(DeadlineError) as info:
        parse_deadline(text)
    assert text.strip() in str(info.value)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_rejects_empty(text):
    with pytest.raises(DeadlineError, match="为空"):
        parse_deadline(text)
