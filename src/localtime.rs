//! Times a person reads: an instant written as local time in the workspace's
//! zone, with its offset.
//!
//! Every time pactum writes (the register's issue time, a handover entry,
//! the 移交清单, `register.csv`) goes through here, in the zone of the
//! workspace's `.pactum.toml` (see `config`), never the machine's `TZ`: the
//! same `SOURCE_DATE_EPOCH` gives the same bytes on every machine. Times read
//! back may carry any offset (rows written before zones were configured say
//! `Z`); they are shown converted, and never rewritten where they are stored.
//! It does not read the clock or any file.

use chrono::{DateTime, Datelike as _, SecondsFormat, Timelike as _, Utc};
use chrono_tz::Tz;

/// `t` in `zone` as RFC 3339 with seconds and a numeric offset, e.g.
/// `2026-12-04T20:15:00+08:00` (UTC is written `+00:00`, not `Z`, so every
/// time pactum writes has the same shape).
pub fn rfc3339(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .fixed_offset()
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A stored RFC 3339 time (any offset, `Z` included) re-expressed in `zone`
/// by [`rfc3339`]; text that is not such a time is returned as it is (shown,
/// never hidden).
pub fn local(stored: &str, zone: Tz) -> String {
    DateTime::parse_from_rfc3339(stored).map_or_else(
        |_| stored.to_owned(),
        |t| rfc3339(t.with_timezone(&Utc), zone),
    )
}

/// `t` in `zone` as a Chinese reader writes it on paper, with the offset:
/// `2026年12月4日 20:15:00（UTC+08:00）`. Seconds are kept so the printed
/// time is the handover log's, to the second.
pub fn chinese(t: DateTime<Utc>, zone: Tz) -> String {
    let l = t.with_timezone(&zone);
    format!(
        "{}年{}月{}日 {:02}:{:02}:{:02}（UTC{}）",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute(),
        l.second(),
        l.fixed_offset().offset()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn times_carry_the_offset_of_the_zone_on_that_day() {
        // 1795000000 = 2026-11-18T11:06:40Z.
        let t = at(1_795_000_000);
        assert_eq!(rfc3339(t, Tz::Asia__Shanghai), "2026-11-18T19:06:40+08:00");
        assert_eq!(rfc3339(t, Tz::Europe__Berlin), "2026-11-18T12:06:40+01:00");
        assert_eq!(rfc3339(t, Tz::UTC), "2026-11-18T11:06:40+00:00");
        // Summer time: Berlin is +02:00 in July.
        let july = at(1_783_000_000); // 2026-07-02T13:46:40Z
        assert_eq!(
            rfc3339(july, Tz::Europe__Berlin),
            "2026-07-02T15:46:40+02:00"
        );
        assert_eq!(
            chinese(t, Tz::Asia__Shanghai),
            "2026年11月18日 19:06:40（UTC+08:00）"
        );
        assert_eq!(
            chinese(at(0), Tz::UTC),
            "1970年1月1日 00:00:00（UTC+00:00）"
        );
    }

    #[test]
    fn stored_utc_times_are_shown_in_the_zone_and_other_text_is_kept() {
        assert_eq!(
            local("2026-11-23T00:00:00Z", Tz::Asia__Shanghai),
            "2026-11-23T08:00:00+08:00"
        );
        assert_eq!(
            local("2026-11-23T08:00:00+08:00", Tz::Europe__Berlin),
            "2026-11-23T01:00:00+01:00"
        );
        assert_eq!(local("", Tz::UTC), "");
        assert_eq!(local("yesterday", Tz::UTC), "yesterday");
    }
}
