from datetime import date

import pytest

from tracker.rules.deadlines import DeadlineError, parse_deadline, read_deadline


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


@pytest.mark.parametrize("text", ["长期坚持", "持续推进", "长期", "常态化推进", "持续开展"])
def test_ongoing_phrases_have_no_deadline(text):
    assert parse_deadline(text) is None


@pytest.mark.parametrize("text", [
    "2024年13月底前", "2024年0月", "2023年2月29日前", "2024年2月30日", "2025-10-32", "2023-02-29",
    "2024年第五季度", "2024年中", "年底前", "下个月", "24年6月", "尽快", "2024年6月底前完成并验收",
    "2024年6月完成", "2024.13", "2024.6.31", "2025年—2024年", "2024年6月—2024年3月", "2024年起随时",
    "2024年6月底前启动，2023年12月底前完成", "2024年6月底前，2024年9月底前", "每年13月", "每月32日前", "每周",
    "每年至少开展1次", "各有关单位", "2024年起每年",
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


@pytest.mark.parametrize("text, expected", [
    ("2024年9月底前完成", date(2024, 9, 30)),
    ("2024年9月底前办结", date(2024, 9, 30)),
    ("2024年底前到位", date(2024, 12, 31)),
    ("2025年10月15日前完成", date(2025, 10, 15)),
    ("2024.6", date(2024, 6, 30)),
    ("2024.06.30", date(2024, 6, 30)),
    ("2024.6.30", date(2024, 6, 30)),
    ("2024/6/30", date(2024, 6, 30)),
    ("2024/6", date(2024, 6, 30)),
])
def test_trailing_verbs_and_dotted_dates(text, expected):
    reading = read_deadline(text)
    assert (reading.deadline, reading.start, reading.recurrence) == (expected, None, None)
    assert parse_deadline(text) == expected


@pytest.mark.parametrize("text, start, end", [
    ("2024年—2025年", date(2024, 1, 1), date(2025, 12, 31)),
    ("2024-2025年", date(2024, 1, 1), date(2025, 12, 31)),
    ("2024年至2025年", date(2024, 1, 1), date(2025, 12, 31)),
    ("2024年-2025年", date(2024, 1, 1), date(2025, 12, 31)),
    ("2024年3月至2025年6月", date(2024, 3, 1), date(2025, 6, 30)),
])
def test_ranges_end_at_the_end_of_the_range(text, start, end):
    reading = read_deadline(text)
    assert (reading.deadline, reading.start) == (end, start)


@pytest.mark.parametrize("text, start", [
    ("2024年起长期坚持", date(2024, 1, 1)),
    ("2024年3月起", date(2024, 3, 1)),
    ("2024年起", date(2024, 1, 1)),
    ("2024年3月起持续推进", date(2024, 3, 1)),
    ("2024年下半年起常态化推进", date(2024, 7, 1)),
])
def test_ongoing_with_a_start_keeps_the_start(text, start):
    reading = read_deadline(text)
    assert reading.ongoing and reading.deadline is None
    assert reading.start == start
    assert parse_deadline(text) is None


def test_staged_deadline_keeps_milestones_and_ends_at_the_last():
    reading = read_deadline("2023年12月底前启动，2024年6月底前完成")
    assert reading.deadline == date(2024, 6, 30)
    assert reading.milestones == (("2023年12月底前启动", date(2023, 12, 31)), ("2024年6月底前完成", date(2024, 6, 30)))
    three = read_deadline("2024年3月底前部署；2024年6月底前推开；2024年底前完成")
    assert [d for _, d in three.milestones] == [date(2024, 3, 31), date(2024, 6, 30), date(2024, 12, 31)]


@pytest.mark.parametrize("text, every, due", [
    ("每年12月底前", "year", "12-31"),
    ("每年", "year", "12-31"),
    ("每年底前", "year", "12-31"),
    ("每年6月30日前", "year", "06-30"),
    ("每年3月", "year", "03-31"),
    ("每年12月底前完成", "year", "12-31"),
    ("每半年", "half", "06-30"),
    ("每季度", "quarter", "03-31"),
    ("每季度末", "quarter", "03-31"),
    ("每月25日前", "month", "25"),
    ("每月", "month", "31"),
])
def test_recurring_forms(text, every, due):
    reading = read_deadline(text)
    assert reading.recurrence.as_json() == {"every": every, "due": due}
    assert reading.deadline is None and not reading.ongoing
