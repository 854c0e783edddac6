//! Calendar dates as contracts write them: the strict ISO form records use,
//! and the Chinese and English forms printed in documents.
//!
//! Pure formatting; no clock is read here (the date always comes from a
//! record), so output depends on the input alone.

use chrono::{Datelike, NaiveDate};

/// Lowercase Chinese digits for a year, with 〇 for zero (GB/T 15835-2011:
/// a year is an identifier, not a count).
const YEAR_DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Parses exactly "YYYY-MM-DD", zero-padded, and only real calendar dates.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// Arabic date in the GB/T 9704 form, no leading zeros: "2026年1月3日".
pub fn date_cn(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Chinese-numeral date: "二〇二六年十一月二十日"; the year digit by digit
/// with 〇, month and day as counting numbers (十, 十一, 二十, 三十一).
pub fn date_cn_upper(d: NaiveDate) -> String {
    let year: String = d
        .year()
        .to_string()
        .chars()
        .map(|c| {
            c.to_digit(10)
                .and_then(|v| YEAR_DIGITS.get(v as usize).copied())
                // A minus sign of a BCE year; records never carry one.
                .unwrap_or(c)
        })
        .collect();
    format!("{year}年{}月{}日", counting(d.month()), counting(d.day()))
}

/// A count from 1 to 99 in Chinese numerals; 0 and larger values do not occur
/// in month or day numbers and fall back to figures.
fn counting(n: u32) -> String {
    let digit = |v: u32| YEAR_DIGITS.get(v as usize).copied().unwrap_or('?');
    match (n / 10, n % 10) {
        (0, 0) | (10.., _) => n.to_string(),
        (0, ones) => digit(ones).to_string(),
        // "十一", not "一十一", for the teens.
        (1, 0) => "十".to_owned(),
        (1, ones) => format!("十{}", digit(ones)),
        (tens, 0) => format!("{}十", digit(tens)),
        (tens, ones) => format!("{}十{}", digit(tens), digit(ones)),
    }
}

/// English date, day first without a leading zero: "20 November 2026".
pub fn date_en(d: NaiveDate) -> String {
    let month = MONTHS_EN.get(d.month0() as usize).copied().unwrap_or("");
    format!("{} {month} {}", d.day(), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn iso_parse_is_strict() {
        assert_eq!(
            parse_iso_date("2026-11-20"),
            NaiveDate::from_ymd_opt(2026, 11, 20)
        );
        assert_eq!(
            parse_iso_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "",
            "2026-1-3",
            "2026-01-3",
            "26-01-03",
            "2026/01/03",
            "2026-01-03 ",
            " 2026-01-03",
            "2026-13-01",
            "2026-00-10",
            "2026-02-29",
            "2026-04-31",
            "2026-01-00",
            "+026-01-03",
            "2026-0a-03",
            "2026-01-03T00:00",
            "２０２６-01-03",
            "2026-01-0\u{3}",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn chinese_arabic() {
        assert_eq!(date_cn(d("2026-11-20")), "2026年11月20日");
        assert_eq!(date_cn(d("2026-01-03")), "2026年1月3日");
        assert_eq!(date_cn(d("2026-10-10")), "2026年10月10日");
        assert_eq!(date_cn(d("2026-12-31")), "2026年12月31日");
        assert_eq!(date_cn(d("2000-01-01")), "2000年1月1日");
    }

    #[test]
    fn chinese_numerals() {
        assert_eq!(date_cn_upper(d("2026-11-20")), "二〇二六年十一月二十日");
        assert_eq!(date_cn_upper(d("2026-01-03")), "二〇二六年一月三日");
        assert_eq!(date_cn_upper(d("2026-10-10")), "二〇二六年十月十日");
        assert_eq!(date_cn_upper(d("2026-12-31")), "二〇二六年十二月三十一日");
        assert_eq!(date_cn_upper(d("2000-01-01")), "二〇〇〇年一月一日");
        assert_eq!(date_cn_upper(d("2026-03-15")), "二〇二六年三月十五日");
        assert_eq!(date_cn_upper(d("2026-11-23")), "二〇二六年十一月二十三日");
        assert_eq!(date_cn_upper(d("1999-09-30")), "一九九九年九月三十日");
    }

    #[test]
    fn english() {
        assert_eq!(date_en(d("2026-11-20")), "20 November 2026");
        assert_eq!(date_en(d("2026-01-03")), "3 January 2026");
        assert_eq!(date_en(d("2026-10-10")), "10 October 2026");
        assert_eq!(date_en(d("2026-12-31")), "31 December 2026");
        assert_eq!(date_en(d("2000-01-01")), "1 January 2000");
        assert_eq!(date_en(d("2026-03-15")), "15 March 2026");
    }

    #[test]
    fn counting_numbers() {
        let want = [
            (1, "一"),
            (9, "九"),
            (10, "十"),
            (11, "十一"),
            (19, "十九"),
            (20, "二十"),
            (21, "二十一"),
            (30, "三十"),
            (31, "三十一"),
        ];
        for (n, text) in want {
            assert_eq!(counting(n), text, "{n}");
        }
        assert_eq!(counting(0), "0");
        assert_eq!(counting(100), "100");
    }
}
