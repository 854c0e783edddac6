//! Synthetic workloads: N valid service contracts and their parties, derived
//! from the shipped samples, for benchmarks and scale tests.
//!
//! Deterministic (the i-th record is always the same): distinct parties with
//! valid 统一社会信用代码, amounts, dates, payment schedules that sum exactly,
//! approvals that fit the amount's tier, deposits within 20 %. Records are
//! written as JSON, which is valid YAML.

use std::path::Path;

use chrono::{Days, NaiveDate};
use serde_json::{Value, json};

use crate::ident::uscc_check_char;
use crate::money::Money;

/// Fictional name parts; combined they give many distinct company names.
const CITIES: [(&str, &str, &str); 8] = [
    ("北京", "北京市海淀区知春路", "110108"),
    ("上海", "上海市浦东新区张江路", "310115"),
    ("深圳", "广东省深圳市南山区科技园", "440305"),
    ("杭州", "浙江省杭州市西湖区文三路", "330106"),
    ("成都", "四川省成都市高新区天府大道", "510107"),
    ("武汉", "湖北省武汉市武昌区中北路", "420106"),
    ("南京", "江苏省南京市玄武区珠江路", "320102"),
    ("西安", "陕西省西安市雁塔区科技路", "610113"),
];
const WORDS: [&str; 16] = [
    "云岫", "澜川", "鹏屿", "锦岚", "星衡", "远帆", "青禾", "明途", "瀚海", "泓信", "朗峰", "嘉树",
    "启元", "惠通", "博睿", "安和",
];
const TRADES: [&str; 6] = [
    "数据科技",
    "信息技术",
    "智能系统",
    "软件服务",
    "咨询管理",
    "网络科技",
];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"];
const GIVEN: [&str; 10] = [
    "喆", "堃", "静怡", "子涵", "浩然", "思远", "雨桐", "俊杰", "欣怡", "立新",
];

/// A valid 统一社会信用代码 for party number `i`.
fn uscc(i: usize, region: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut body = format!("91{region}");
    let mut n = i as u64 * 7919 + 104_729;
    for _ in 0..9 {
        body.push(ALPHABET[(n % 31) as usize] as char);
        n /= 31;
    }
    let check = uscc_check_char(&body).unwrap_or('0');
    body.push(check);
    body
}

fn person(i: usize) -> String {
    format!(
        "{}{}",
        SURNAMES[i % SURNAMES.len()],
        GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
    )
}

/// Party `i` as a JSON record.
fn party(i: usize) -> Value {
    let (city, street, region) = CITIES[i % CITIES.len()];
    let name = format!(
        "{city}{}{}有限公司{}",
        WORDS[(i / CITIES.len()) % WORDS.len()],
        TRADES[(i / (CITIES.len() * WORDS.len())) % TRADES.len()],
        if i >= CITIES.len() * WORDS.len() * TRADES.len() {
            format!(
                "（第{}分公司）",
                i / (CITIES.len() * WORDS.len() * TRADES.len())
            )
        } else {
            String::new()
        }
    );
    json!({
        "kind": "party",
        "id": format!("synth-party-{i:05}"),
        "type": "organization",
        "name": name,
        "uscc": uscc(i, region),
        "address": format!("{street}{}号", 1 + i % 900),
        "legal_representative": person(i),
        "contact": {"name": person(i + 3), "phone": format!("010-{:08}", 60_000_000 + i)}
    })
}

/// The record the synthetic contracts are modelled on, as shipped.
const MODEL: &str = "contracts/fw-2026-003.yaml";

/// Writes `count` service contracts (and one party per five contracts, at least
/// four) into `out`, modelled on `contracts/fw-2026-003.yaml`: the one in
/// `samples` when given, else the copy built into pactum (so that `synth`
/// works in any folder). `out` must not exist or be an empty folder; the
/// records appear there all at once. Errors name the file they concern.
pub fn generate(samples: Option<&Path>, out: &Path, count: usize) -> std::io::Result<usize> {
    let (path, text) = match samples {
        Some(dir) => {
            let path = dir.join(MODEL);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                let hint = format!(
                    "--samples names a folder holding {MODEL}; leave it out to use the built-in one"
                );
                std::io::Error::new(e.kind(), format!("{}: {e}\nhint: {hint}", path.display()))
            })?;
            (path, text)
        }
        None => {
            let shipped = crate::init::shipped(&format!("records/{MODEL}"))
                .ok_or_else(|| std::io::Error::other(format!("{MODEL} is not built in")))?;
            (
                Path::new("samples").join(MODEL),
                String::from_utf8_lossy(shipped).into_owned(),
            )
        }
    };
    let mut loaded = crate::record::Loaded::default();
    crate::record::load_text(&path, text, &mut loaded);
    let base = loaded
        .records
        .into_iter()
        .next()
        .map(|r| r.value)
        .ok_or_else(|| std::io::Error::other(format!("{} holds no record", path.display())))?;
    // All or nothing, and never mixed with an earlier run's records: into a
    // new or empty folder, through a staging folder beside it.
    let holds_files = std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
    if holds_files || out.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} already exists and is not an empty folder\nhint: synth writes into a new or empty folder, so that its records are not mixed with others",
                out.display()
            ),
        ));
    }
    crate::init::write_new_folder(
        out,
        "synth",
        |_, path, e| at(path, e),
        |staging| write_records(&base, staging, count),
    )?;
    Ok(count)
}

/// Writes the parties and `count` contracts derived from `base` into `out`.
fn write_records(base: &Value, out: &Path, count: usize) -> std::io::Result<()> {
    let parties = (count / 5).max(4);
    for dir in [out.join("parties"), out.join("contracts")] {
        std::fs::create_dir_all(&dir).map_err(|e| at(&dir, e))?;
    }
    for i in 0..parties {
        let text = serde_json::to_string_pretty(&party(i))? + "\n";
        let path = out.join(format!("parties/synth-party-{i:05}.yaml"));
        std::fs::write(&path, text).map_err(|e| at(&path, e))?;
    }
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    for i in 0..count {
        let mut c = base.clone();
        // Amounts from 80,000.00 to about 9.9 million, with cents.
        let fen = 8_000_000u64 + (i as u64 * 7_654_321_987) % 982_000_000 + (i as u64 % 97);
        let amount = Money::from_fen(fen).unwrap_or_default();
        let tier_chain: &[(&str, &str)] = if fen < 50_000_000 {
            &[("普通", "部门负责人")]
        } else if fen < 500_000_000 {
            &[("普通", "部门负责人"), ("重要", "总经理")]
        } else {
            &[
                ("普通", "部门负责人"),
                ("重要", "总经理"),
                ("重大", "董事会"),
            ]
        };
        let signing = start + Days::new((i % 330) as u64);
        let effective = signing + Days::new(7);
        let expiry = effective + Days::new(364);
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let approvals: Vec<Value> = tier_chain
            .iter()
            .enumerate()
            .map(|(k, (tier, role))| {
                json!({"tier": tier, "approver": person(i + k), "role": role,
                       "date": day(signing - Days::new(3 - k as u64))})
            })
            .collect();
        // 30 % / 30 % / rest, in fen, so the schedule sums exactly.
        let first = fen * 3 / 10;
        let second = fen * 3 / 10;
        let last = fen - first - second;
        let money = |f: u64| Money::from_fen(f).unwrap_or_default().to_string();
        let schedule = json!([
            {"milestone": "本合同生效", "amount": money(first), "due": day(effective + Days::new(14))},
            {"milestone": "系统上线", "amount": money(second), "due": day(effective + Days::new(180))},
            {"milestone": "终验合格", "amount": money(last), "due": day(expiry - Days::new(10))},
        ]);
        let a = i % parties;
        let b = (i * 7 + 1) % parties;
        let b = if a == b { (b + 1) % parties } else { b };
        let obj = c
            .as_object_mut()
            .ok_or_else(|| std::io::Error::other("base is not a mapping"))?;
        obj.insert("id".into(), json!(format!("synth-{i:05}")));
        obj.insert(
            "title".into(),
            json!(format!("信息系统实施服务合同（第{}号项目）", i + 1)),
        );
        obj.insert("party_a".into(), json!(format!("synth-party-{a:05}")));
        obj.insert("party_b".into(), json!(format!("synth-party-{b:05}")));
        obj.insert("signing_date".into(), json!(day(signing)));
        obj.insert("effective_date".into(), json!(day(effective)));
        obj.insert("expiry_date".into(), json!(day(expiry)));
        obj.insert("approvals".into(), Value::Array(approvals));
        obj.insert("amount".into(), json!(amount.to_string()));
        obj.insert("payment_schedule".into(), schedule);
        obj.insert("deposit".into(), json!(money(fen / 10)));
        obj.insert(
            "confidentiality".into(),
            json!(["一级", "二级", "三级"][i % 3]),
        );
        obj.remove("bank");
        let text = serde_json::to_string_pretty(&c)? + "\n";
        let path = out.join(format!("contracts/synth-{i:05}.yaml"));
        std::fs::write(&path, text).map_err(|e| at(&path, e))?;
    }
    Ok(())
}

/// `e`, with the path it concerns in front.
fn at(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
