//! Money amounts: the exact decimal type, its strict parser, and the three
//! ways an amount is written out (grouped figures, 人民币大写, English words).
//!
//! Amounts are integer fen (hundredths) from parse to print; no float ever
//! touches a value, because a contract amount must come out exactly as
//! written. This module knows nothing about records, templates or currencies
//! beyond the symbol a caller hands in.

use std::fmt;
use std::str::FromStr;

/// The largest amount accepted, 999999999999.99: 大写 has units only up to 亿,
/// so 1万亿 and above cannot be written in words.
const MAX_FEN: u64 = 99_999_999_999_999;

/// A non-negative amount with two decimal places, held as integer fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    fen: u64,
}

/// Why a string is not a money amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoneyError {
    /// The string is empty.
    Empty,
    /// A character other than a digit or one decimal point.
    InvalidChar(char),
    /// More than one decimal point.
    SecondPoint,
    /// Nothing before the decimal point (".5").
    NoIntegerDigits,
    /// Nothing after the decimal point ("5.").
    NoFractionDigits,
    /// Three or more digits after the point.
    TooManyDecimals,
    /// Above 999999999999.99.
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::Empty => f.write_str("empty amount"),
            MoneyError::InvalidChar(c @ ('-' | '+')) => {
                write!(
                    f,
                    "sign '{c}' is not allowed; amounts are plain non-negative numbers"
                )
            }
            MoneyError::InvalidChar(c @ (',' | '_' | ' ' | '\u{a0}' | '\'')) => write!(
                f,
                "separator '{}' is not allowed; write the digits without grouping",
                c.escape_default()
            ),
            MoneyError::InvalidChar(c) => write!(
                f,
                "unexpected character '{}'; write digits with an optional point and up to 2 decimals",
                c.escape_default()
            ),
            MoneyError::SecondPoint => f.write_str("more than one decimal point"),
            MoneyError::NoIntegerDigits => f.write_str("no digit before the decimal point"),
            MoneyError::NoFractionDigits => f.write_str("no digit after the decimal point"),
            MoneyError::TooManyDecimals => f.write_str("more than 2 decimal places"),
            MoneyError::TooLarge => f.write_str("amount is above 999999999999.99"),
        }
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// Zero yuan.
    pub const ZERO: Money = Money { fen: 0 };

    /// Parses "1280000", "1280000.5" or "1280000.00": digits, an optional
    /// point and one or two decimals, nothing else.
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        // Reject characters first, so "-1.234" reports the sign, not the decimals.
        if let Some(c) = s.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
            return Err(MoneyError::InvalidChar(c));
        }
        let (int, frac) = match s.split_once('.') {
            Some((_, rest)) if rest.contains('.') => return Err(MoneyError::SecondPoint),
            Some((int, frac)) => (int, Some(frac)),
            None => (s, None),
        };
        if int.is_empty() {
            return Err(MoneyError::NoIntegerDigits);
        }
        let frac_fen = match frac {
            None => 0,
            Some("") => return Err(MoneyError::NoFractionDigits),
            Some(f) if f.len() > 2 => return Err(MoneyError::TooManyDecimals),
            // "5" after the point is 50 fen, "05" is 5 fen.
            Some(f) => f
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(2)
                .fold(0, |acc, b| acc * 10 + u64::from(b - b'0')),
        };
        // Leading zeros are allowed, so the length alone does not bound the
        // value; checked arithmetic does.
        let yuan = int.bytes().try_fold(0u64, |acc, b| {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        });
        let fen = yuan
            .and_then(|y| y.checked_mul(100))
            .and_then(|f| f.checked_add(frac_fen))
            .filter(|f| *f <= MAX_FEN)
            .ok_or(MoneyError::TooLarge)?;
        Ok(Money { fen })
    }

    /// The amount from integer fen; `None` above 999999999999.99.
    pub fn from_fen(fen: u64) -> Option<Money> {
        (fen <= MAX_FEN).then_some(Money { fen })
    }

    /// The amount in integer fen.
    pub fn fen(self) -> u64 {
        self.fen
    }

    /// The whole-yuan part.
    pub fn yuan(self) -> u64 {
        self.fen / 100
    }

    /// The fen below one yuan, 0..=99.
    pub fn cents(self) -> u8 {
        // Always below 100, so the conversion cannot fail.
        u8::try_from(self.fen % 100).unwrap_or(0)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Money, MoneyError> {
        Money::parse(s)
    }
}

impl fmt::Display for Money {
    /// Plain decimal with two places: "1280000.00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.yuan(), self.cents())
    }
}

/// Figures grouped by thousands after a currency symbol: "¥1,280,000.00".
pub fn format_grouped(m: Money, symbol: &str) -> String {
    let digits = m.yuan().to_string();
    let mut grouped = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{symbol}{grouped}.{:02}", m.cents())
}

const CN_DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// 人民币大写 without the 人民币 prefix: 1680.32 → "壹仟陆佰捌拾元零叁角贰分".
///
/// This is the "PBOC-first form" of DOMAIN.md §3: where 《支付结算办法》
/// allows a 零 to be written or left out, the first-listed form of its
/// examples is chosen (a 零 after 元 when the 元 digit is 0 and 角 is not;
/// no 零 after 万 when the 千 digit is set). 整 follows 元 only, never 角
/// or 分. Zero is "零元整".
pub fn cny_upper(m: Money) -> String {
    let yuan = m.yuan();
    let jiao = usize::from(m.cents() / 10);
    let fen = usize::from(m.cents() % 10);
    let mut out = String::new();

    if yuan == 0 {
        if jiao == 0 && fen == 0 {
            return "零元整".to_owned();
        }
        // Below one yuan: no 零元 and no leading 零.
        if jiao != 0 {
            out.push(CN_DIGITS[jiao]);
            out.push('角');
        }
        if fen != 0 {
            out.push(CN_DIGITS[fen]);
            out.push('分');
        }
        return out;
    }

    // Four-digit groups, highest first; MAX_FEN keeps the 亿 group below 10000.
    let groups = [
        (yuan / 100_000_000, "亿"),
        (yuan / 10_000 % 10_000, "万"),
        (yuan % 10_000, ""),
    ];
    let mut skipped_zero_group = false;
    for (group, unit) in groups {
        if group == 0 {
            skipped_zero_group |= !out.is_empty();
            continue;
        }
        // A gap between written groups reads as one 零: either a whole group
        // was zero, or this group's 千 digit is zero (壹万零伍佰).
        if !out.is_empty() && (skipped_zero_group || group < 1000) {
            out.push('零');
        }
        push_group(&mut out, group);
        out.push_str(unit);
        skipped_zero_group = false;
    }
    out.push('元');

    match (jiao, fen) {
        (0, 0) => out.push('整'),
        (0, _) => {
            // PBOC rule 4: 角 is 0 and 分 is not, so 元 is followed by 零.
            out.push('零');
            out.push(CN_DIGITS[fen]);
            out.push('分');
        }
        _ => {
            // PBOC rule 3, first-listed form: 元 digit 0 before a 角 digit writes 零.
            if yuan.is_multiple_of(10) {
                out.push('零');
            }
            out.push(CN_DIGITS[jiao]);
            out.push('角');
            if fen != 0 {
                out.push(CN_DIGITS[fen]);
                out.push('分');
            }
        }
    }
    out
}

/// 人民币大写 with its prefix, written without a gap as PBOC requires:
/// "人民币壹佰贰拾捌万元整".
pub fn cny_upper_with_prefix(m: Money) -> String {
    format!("人民币{}", cny_upper(m))
}

/// Writes one four-digit group (1..=9999): each non-zero digit with its unit,
/// one 零 for a zero run inside the group, nothing for leading or trailing zeros.
fn push_group(out: &mut String, group: u64) {
    const PLACES: [(u64, &str); 4] = [(1000, "仟"), (100, "佰"), (10, "拾"), (1, "")];
    let mut started = false;
    let mut zero_run = false;
    for (place, unit) in PLACES {
        let digit = usize::try_from(group / place % 10).unwrap_or(0);
        if digit == 0 {
            zero_run |= started;
            continue;
        }
        if zero_run {
            out.push('零');
            zero_run = false;
        }
        out.push(CN_DIGITS[digit]);
        out.push_str(unit);
        started = true;
    }
}

/// One token of 大写 text, for [`parse_cny_upper`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Zero,
    Digit(u64),
    /// 拾 佰 仟
    Small(u64),
    /// 万 亿
    Big(u64),
    Yuan,
    Jiao,
    Fen,
    Zheng,
}

fn tok(c: char) -> Option<Tok> {
    Some(match c {
        '零' => Tok::Zero,
        '壹' => Tok::Digit(1),
        '贰' | '貳' => Tok::Digit(2),
        '叁' | '參' => Tok::Digit(3),
        '肆' => Tok::Digit(4),
        '伍' => Tok::Digit(5),
        '陆' | '陸' => Tok::Digit(6),
        '柒' => Tok::Digit(7),
        '捌' => Tok::Digit(8),
        '玖' => Tok::Digit(9),
        '拾' => Tok::Small(10),
        '佰' => Tok::Small(100),
        '仟' => Tok::Small(1000),
        '万' | '萬' => Tok::Big(10_000),
        '亿' | '億' => Tok::Big(100_000_000),
        '元' | '圆' | '圓' => Tok::Yuan,
        '角' => Tok::Jiao,
        '分' => Tok::Fen,
        '整' | '正' => Tok::Zheng,
        _ => return None,
    })
}

/// Reads 人民币大写 back to fen, accepting every form PBOC allows: 零 written
/// or left out where optional, 圆 for 元, 正 for 整, traditional 貳 陸 萬 億,
/// an optional 人民币 prefix. `None` when the text is not a well-formed amount.
///
/// This is the checker of DOMAIN.md §3: compare numbers, not strings, so a
/// hand-written variant that means the same amount passes. It is lenient
/// about where 零 appears (never two in a row, never before a unit) and
/// strict about units: digits need their unit in descending order, 拾 needs
/// its 壹, 整 may not follow 分.
pub fn parse_cny_upper(text: &str) -> Option<i64> {
    let text = text.strip_prefix("人民币").unwrap_or(text);
    let toks = text.chars().map(tok).collect::<Option<Vec<Tok>>>()?;
    let (yuan, rest, has_yuan) = match toks.iter().position(|t| *t == Tok::Yuan) {
        Some(i) => (parse_cny_int(toks.get(..i)?)?, toks.get(i + 1..)?, true),
        None => (0, toks.as_slice(), false),
    };
    let (jiao, fen) = parse_cny_decimals(rest, has_yuan)?;
    let total = yuan.checked_mul(100)?.checked_add(jiao * 10 + fen)?;
    i64::try_from(total).ok()
}

/// The part before 元.
fn parse_cny_int(toks: &[Tok]) -> Option<u64> {
    if toks == [Tok::Zero] {
        return Some(0);
    }
    let mut total = 0u64;
    let mut section = 0u64;
    let mut digit: Option<u64> = None;
    let mut last_small = u64::MAX;
    let mut last_big = u64::MAX;
    let mut prev_zero = false;
    for (i, t) in toks.iter().enumerate() {
        match *t {
            Tok::Zero => {
                // Never leading, never doubled, never after a unitless digit.
                if i == 0 || prev_zero || digit.is_some() {
                    return None;
                }
                prev_zero = true;
                continue;
            }
            Tok::Digit(d) => {
                if digit.is_some() {
                    return None;
                }
                digit = Some(d);
            }
            Tok::Small(unit) => {
                if prev_zero || unit >= last_small {
                    return None;
                }
                section += digit.take()? * unit;
                last_small = unit;
            }
            Tok::Big(unit) => {
                section += digit.take().unwrap_or(0);
                if prev_zero || section == 0 || unit >= last_big {
                    return None;
                }
                total = total.checked_add(section.checked_mul(unit)?)?;
                section = 0;
                last_small = u64::MAX;
                last_big = unit;
            }
            Tok::Yuan | Tok::Jiao | Tok::Fen | Tok::Zheng => return None,
        }
        prev_zero = false;
    }
    if prev_zero {
        return None;
    }
    section += digit.unwrap_or(0);
    let value = total.checked_add(section)?;
    // "元整" alone has no amount.
    (value > 0).then_some(value)
}

/// The part after 元 (or the whole text below one yuan): 角, 分 and 整.
fn parse_cny_decimals(toks: &[Tok], has_yuan: bool) -> Option<(u64, u64)> {
    let mut rest = toks;
    let mut zero = false;
    if let [Tok::Zero, tail @ ..] = rest {
        zero = true;
        rest = tail;
    }
    let mut jiao = 0;
    if let [Tok::Digit(d), Tok::Jiao, tail @ ..] = rest {
        jiao = *d;
        rest = tail;
    }
    let mut fen = 0;
    if let [Tok::Digit(d), Tok::Fen, tail @ ..] = rest {
        fen = *d;
        rest = tail;
    }
    let zheng = match rest {
        [] => false,
        [Tok::Zheng] => true,
        _ => return None,
    };
    let nothing = jiao == 0 && fen == 0;
    let ok = match (has_yuan, nothing) {
        // 元 with no decimals needs 整 and no stray 零.
        (true, true) => zheng && !zero,
        // 整 never after 分; after 角 it is the 会计基础工作规范 variant.
        (_, false) => !(zheng && fen != 0),
        // No 元 and no decimals: not an amount.
        (false, true) => false,
    };
    ok.then_some((jiao, fen))
}

const EN_ONES: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];

const EN_TENS: [&str; 10] = [
    "", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
];

/// The amount in English words for a contract, without a currency name:
/// 1280000 → "One Million Two Hundred and Eighty Thousand Only".
///
/// Conventions (there is no standard, DOMAIN.md §3): British "and" after
/// hundreds ("One Hundred and Five") and before a last group below 100
/// ("One Thousand and Five"); short scale (Billion = 10^9); hyphenated tens
/// ("Twenty-One"); every word capitalised; "Only" at the end. Cents follow
/// as "and Fifty Cents" ("One Thousand and Five and Fifty Cents Only");
/// below one unit the cents stand alone ("Five Cents Only"); zero is
/// "Zero Only".
pub fn en_words(m: Money) -> String {
    let cents = u64::from(m.cents());
    let mut out = match (m.yuan(), cents) {
        (0, 0) => "Zero".to_owned(),
        (0, _) => String::new(),
        (yuan, _) => en_integer(yuan),
    };
    if cents != 0 {
        if !out.is_empty() {
            out.push_str(" and ");
        }
        out.push_str(&en_below_100(cents));
        out.push_str(if cents == 1 { " Cent" } else { " Cents" });
    }
    out.push_str(" Only");
    out
}

/// A positive integer below 10^12 in words.
fn en_integer(n: u64) -> String {
    let groups = [
        (n / 1_000_000_000 % 1000, " Billion"),
        (n / 1_000_000 % 1000, " Million"),
        (n / 1000 % 1000, " Thousand"),
        (n % 1000, ""),
    ];
    let mut words: Vec<String> = Vec::new();
    for (i, (group, scale)) in groups.into_iter().enumerate() {
        if group == 0 {
            continue;
        }
        let last = i == groups.len() - 1;
        // British usage: "One Thousand and Five", "One Million and Twenty".
        if last && group < 100 && !words.is_empty() {
            words.push("and".to_owned());
        }
        words.push(format!("{}{scale}", en_below_1000(group)));
    }
    words.join(" ")
}

/// 1..=999 in words, "and" after the hundreds.
fn en_below_1000(n: u64) -> String {
    let hundreds = n / 100;
    let rest = n % 100;
    match (hundreds, rest) {
        (0, _) => en_below_100(rest),
        (h, 0) => format!("{} Hundred", en_below_100(h)),
        (h, r) => format!("{} Hundred and {}", en_below_100(h), en_below_100(r)),
    }
}

/// 0..=99 in words.
fn en_below_100(n: u64) -> String {
    let word = |table: &[&'static str], i: u64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| table.get(i).copied())
            .unwrap_or("")
    };
    if n < 20 {
        return word(&EN_ONES, n).to_owned();
    }
    let tens = word(&EN_TENS, n / 10);
    match n % 10 {
        0 => tens.to_owned(),
        ones => format!("{tens}-{}", word(&EN_ONES, ones)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parse_accepts_plain_decimals() {
        assert_eq!(m("0").fen(), 0);
        assert_eq!(m("0.50").fen(), 50);
        assert_eq!(m("0.5").fen(), 50);
        assert_eq!(m("0.05").fen(), 5);
        assert_eq!(m("1280000.00").fen(), 128_000_000);
        assert_eq!(m("007").fen(), 700);
        assert_eq!(m("999999999999.99").fen(), MAX_FEN);
        assert_eq!(m("0000000000000000000000001.25").fen(), 125);
        assert_eq!("12.3".parse::<Money>(), Ok(Money { fen: 1230 }));
    }

    #[test]
    fn parse_rejects_everything_else() {
        use MoneyError::*;
        let cases = [
            ("", Empty),
            (".5", NoIntegerDigits),
            ("5.", NoFractionDigits),
            ("1.234", TooManyDecimals),
            ("1e3", InvalidChar('e')),
            ("-1", InvalidChar('-')),
            ("+1", InvalidChar('+')),
            ("1,000.00", InvalidChar(',')),
            (" 1", InvalidChar(' ')),
            ("1_000", InvalidChar('_')),
            ("１", InvalidChar('１')),
            ("1.2.3", SecondPoint),
            (".", NoIntegerDigits),
            ("1000000000000", TooLarge),
            ("1000000000000.00", TooLarge),
            ("99999999999999999999999999", TooLarge),
        ];
        for (input, want) in cases {
            assert_eq!(Money::parse(input), Err(want), "input {input:?}");
        }
    }

    #[test]
    fn error_messages_are_plain() {
        assert_eq!(
            MoneyError::TooManyDecimals.to_string(),
            "more than 2 decimal places"
        );
        assert!(MoneyError::InvalidChar('-').to_string().contains("sign"));
        assert!(
            MoneyError::InvalidChar(',')
                .to_string()
                .contains("separator")
        );
    }

    #[test]
    fn display_and_from_fen() {
        assert_eq!(m("1280000").to_string(), "1280000.00");
        assert_eq!(m("0.5").to_string(), "0.50");
        assert_eq!(
            Money::from_fen(5).map(|x| x.to_string()),
            Some("0.05".into())
        );
        assert_eq!(Money::from_fen(MAX_FEN + 1), None);
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }

    #[test]
    fn grouped_figures() {
        assert_eq!(format_grouped(m("1280000"), "¥"), "¥1,280,000.00");
        assert_eq!(format_grouped(m("0.5"), "$"), "$0.50");
        assert_eq!(format_grouped(m("999"), "¥"), "¥999.00");
        assert_eq!(format_grouped(m("1000"), "¥"), "¥1,000.00");
        assert_eq!(format_grouped(m("100000"), ""), "100,000.00");
        assert_eq!(
            format_grouped(m("999999999999.99"), "€"),
            "€999,999,999,999.99"
        );
    }

    #[test]
    fn pboc_examples_first_form() {
        let cases = [
            ("1409.50", "壹仟肆佰零玖元伍角"),
            ("6007.14", "陆仟零柒元壹角肆分"),
            ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
            ("107000.53", "壹拾万柒仟元零伍角叁分"),
            ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
            ("325.04", "叁佰贰拾伍元零肆分"),
        ];
        for (amount, want) in cases {
            assert_eq!(cny_upper(m(amount)), want, "amount {amount}");
        }
    }

    #[test]
    fn domain_table_canonical_column() {
        let cases = [
            ("0.05", "伍分"),
            ("10", "壹拾元整"),
            ("10.5", "壹拾元零伍角"),
            ("100.01", "壹佰元零壹分"),
            ("1005", "壹仟零伍元整"),
            ("10010", "壹万零壹拾元整"),
            ("100000.1", "壹拾万元零壹角"),
            ("1000000000", "壹拾亿元整"),
            (
                "123456789.12",
                "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分",
            ),
            ("20000000.00", "贰仟万元整"),
            ("107000.53", "壹拾万柒仟元零伍角叁分"),
            // Regression: cn2an drops this 零 and reads as 1.1亿.
            ("100001000", "壹亿零壹仟元整"),
            ("10001000", "壹仟万壹仟元整"),
        ];
        for (amount, want) in cases {
            assert_eq!(cny_upper(m(amount)), want, "amount {amount}");
        }
    }

    #[test]
    fn upper_edges() {
        assert_eq!(cny_upper(Money::ZERO), "零元整");
        assert_eq!(cny_upper(m("0.5")), "伍角");
        assert_eq!(cny_upper(m("0.55")), "伍角伍分");
        assert_eq!(cny_upper(m("1")), "壹元整");
        assert_eq!(cny_upper(m("1280000")), "壹佰贰拾捌万元整");
        assert_eq!(cny_upper(m("100000001")), "壹亿零壹元整");
        assert_eq!(cny_upper(m("10000100")), "壹仟万零壹佰元整");
        assert_eq!(
            cny_upper(m("999999999999.99")),
            "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"
        );
        assert_eq!(
            cny_upper_with_prefix(m("1280000")),
            "人民币壹佰贰拾捌万元整"
        );
    }

    #[test]
    fn upper_never_uses_forbidden_characters() {
        for fen in (0..2_000_000u64).step_by(997) {
            let text = cny_upper(Money { fen });
            assert!(
                !text.contains(['一', '二', '十', '两', '毛', '另', '0']),
                "{fen}: {text}"
            );
            assert!(!text.contains("零零"), "{fen}: {text}");
            assert!(
                !text.ends_with("分整") && !text.ends_with("角整"),
                "{fen}: {text}"
            );
        }
    }

    #[test]
    fn checker_accepts_pboc_variants() {
        let cases = [
            ("壹仟陆佰捌拾元叁角贰分", 168_032),
            ("壹拾万零柒仟元伍角叁分", 10_700_053),
            ("人民币壹拾万柒仟元零伍角叁分", 10_700_053),
            ("壹拾圆正", 1000),
            ("貳拾萬元整", 20_000_000),
            ("壹億元整", 10_000_000_000),
            ("零元整", 0),
            ("伍分", 5),
            ("伍角整", 50),
            ("壹仟万壹仟元整", 1_000_100_000),
            ("壹仟万零壹仟元整", 1_000_100_000),
        ];
        for (text, fen) in cases {
            assert_eq!(parse_cny_upper(text), Some(fen), "{text}");
        }
    }

    #[test]
    fn checker_rejects_malformed_text() {
        for text in [
            "",
            "整",
            "元整",
            "拾元整",
            "壹拾元",
            "壹拾元零整",
            "壹元伍分整",
            "壹贰元整",
            "壹佰壹仟元整",
            "零零壹元整",
            "壹仟零零伍元整",
            "伍零元整",
            "壹万壹万元整",
            "壹万壹亿元整",
            "壹拾元伍角零伍分",
            "一元整",
            "壹元整 ",
            "人民币",
            "零伍元整",
        ] {
            assert_eq!(parse_cny_upper(text), None, "{text:?}");
        }
    }

    #[test]
    fn upper_round_trips() {
        let check = |fen: u64| {
            let text = cny_upper(Money { fen });
            assert_eq!(
                parse_cny_upper(&text),
                i64::try_from(fen).ok(),
                "{fen}: {text}"
            );
        };
        // Every amount below 2000 yuan, then a sweep with a stride coprime to
        // 10 so all digit patterns recur, then digits at every position.
        (0..200_000).for_each(check);
        (0..MAX_FEN).step_by(7_777_777_777).for_each(check);
        (0..20_000_000_000u64).step_by(1_000_003).for_each(check);
        for pos in 0..14 {
            for d in 1..10 {
                let v = d * 10u64.pow(pos);
                check(v);
                check(v + 1);
                check(v + 10);
                check(MAX_FEN - v.min(MAX_FEN));
            }
        }
        check(MAX_FEN);
    }

    #[test]
    fn english_words() {
        let cases = [
            ("0", "Zero Only"),
            ("0.01", "One Cent Only"),
            ("0.5", "Fifty Cents Only"),
            ("1", "One Only"),
            ("15", "Fifteen Only"),
            ("21", "Twenty-One Only"),
            ("100", "One Hundred Only"),
            ("105", "One Hundred and Five Only"),
            ("1005", "One Thousand and Five Only"),
            ("1005.50", "One Thousand and Five and Fifty Cents Only"),
            ("1100", "One Thousand One Hundred Only"),
            ("1000020", "One Million and Twenty Only"),
            (
                "1280000",
                "One Million Two Hundred and Eighty Thousand Only",
            ),
            ("1000000000", "One Billion Only"),
            (
                "123456789.99",
                "One Hundred and Twenty-Three Million Four Hundred and Fifty-Six Thousand \
                 Seven Hundred and Eighty-Nine and Ninety-Nine Cents Only",
            ),
            (
                "999999999999.99",
                "Nine Hundred and Ninety-Nine Billion Nine Hundred and Ninety-Nine Million \
                 Nine Hundred and Ninety-Nine Thousand Nine Hundred and Ninety-Nine \
                 and Ninety-Nine Cents Only",
            ),
        ];
        for (amount, want) in cases {
            assert_eq!(en_words(m(amount)), want, "amount {amount}");
        }
    }
}
