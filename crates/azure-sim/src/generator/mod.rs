//! The streaming cost-data generator.
//!
//! Everything is a pure function of a [`DataSpec`] (seed, size, agreement, dates): a resource, its
//! meter, region, tags and daily quantity are hashed from (seed, resource index, day), so a row can be
//! regenerated at any time and nothing but a small cursor (the day, the resource index and the
//! remaining commitment budgets of that day) is ever held. [`RowIter`] is `Clone`; a clone is a
//! resumable cursor, which is how the Cost Details blobs of a large report are split and streamed.
//!
//! Actual and amortized cost are produced by one walk over the same usage:
//! - on-demand usage, marketplace, refunds and credits are identical in both files;
//! - usage covered by a reservation or savings plan has cost 0 in ActualCost and
//!   `quantity x commitment rate` in AmortizedCost;
//! - the monthly recurring commitment purchase appears (on the 1st) in ActualCost only, the
//!   daily unused remainder (`UnusedReservation` / `UnusedSavingsPlan`) in AmortizedCost only;
//! - for a whole month, the amortized commitment cost (used + unused) equals the purchase amount.

mod catalog;
mod layout;
mod widths;

pub use layout::Layout;
pub use widths::Widths;

use crate::rng::{below, chance, guid, h, hs};
use catalog::{Catalog, QtyKind, catalog};
use layout::Col;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;
use time::{Date, Duration, Month};

/// EA or MCA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Agreement {
    #[serde(rename = "EA", alias = "EnterpriseAgreement", alias = "ea")]
    Ea,
    #[serde(rename = "MCA", alias = "MicrosoftCustomerAgreement", alias = "mca")]
    Mca,
}

/// The two Cost Details metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Metric {
    ActualCost,
    AmortizedCost,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::ActualCost => "ActualCost",
            Metric::AmortizedCost => "AmortizedCost",
        }
    }
}

/// What to generate for one billing account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSpec {
    pub agreement: Agreement,
    /// Enrollment number (EA) or `guid:guid_date` (MCA).
    pub billing_account_id: String,
    pub billing_account_name: String,
    pub seed: u64,
    /// Approximate number of rows in one month of ActualCost.
    pub rows_per_month: u64,
    /// First day with data (moved to the first of its month).
    pub data_start: Date,
    /// Billing currency (`USD`, `EUR`, ...). MCA prices stay in USD (pricing currency).
    pub currency: String,
    pub layout: Layout,
    /// How wide the text columns are (names, tags, AdditionalInfo).
    pub widths: Widths,
}

/// Which rows of the account a report covers (its Cost Management scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    All,
    Subscription(String),
    /// EA department / MCA invoice section, by id.
    Section(String),
    /// EA enrollment account, by id.
    EnrollmentAccount(String),
    /// MCA billing profile, by id.
    BillingProfile(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommitKind {
    Reservation,
    SavingsPlan,
}

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKind {
    Usage,
    ReservationUsage,
    SavingsPlanUsage,
    UnusedReservation,
    UnusedSavingsPlan,
    ReservationPurchase,
    SavingsPlanPurchase,
    Refund,
    Credit,
}

impl RowKind {
    pub fn charge_type(self) -> &'static str {
        match self {
            RowKind::Usage | RowKind::ReservationUsage | RowKind::SavingsPlanUsage => "Usage",
            RowKind::UnusedReservation => "UnusedReservation",
            RowKind::UnusedSavingsPlan => "UnusedSavingsPlan",
            RowKind::ReservationPurchase | RowKind::SavingsPlanPurchase => "Purchase",
            RowKind::Refund => "Refund",
            RowKind::Credit => "Credit",
        }
    }
    pub fn pricing_model(self) -> &'static str {
        match self {
            RowKind::ReservationUsage
            | RowKind::UnusedReservation
            | RowKind::ReservationPurchase => "Reservation",
            RowKind::SavingsPlanUsage
            | RowKind::UnusedSavingsPlan
            | RowKind::SavingsPlanPurchase => "SavingsPlan",
            _ => "OnDemand",
        }
    }
    pub fn frequency(self) -> &'static str {
        match self {
            RowKind::ReservationPurchase | RowKind::SavingsPlanPurchase => "Recurring",
            RowKind::Refund | RowKind::Credit => "OneTime",
            _ => "UsageBased",
        }
    }
    fn commitment(self) -> Option<CommitKind> {
        match self.pricing_model() {
            "Reservation" => Some(CommitKind::Reservation),
            "SavingsPlan" => Some(CommitKind::SavingsPlan),
            _ => None,
        }
    }
}

/// One generated row, before it is laid out as CSV. Amounts are in pricing currency (USD for MCA,
/// the billing currency for EA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRow {
    pub date: Date,
    pub kind: RowKind,
    /// Subscription index in the universe.
    pub sub: u32,
    /// Resource index, for usage rows.
    pub resource: Option<u64>,
    /// Meter index in the catalog.
    pub meter: Option<usize>,
    pub region: usize,
    /// Commitment index (reservation or savings plan, by `kind`).
    pub commitment: Option<usize>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub effective_price: Decimal,
    pub payg_price: Decimal,
    pub cost: Decimal,
    /// Whether the row's month has been invoiced (MCA `invoiceId` is set).
    pub invoiced: bool,
}

#[derive(Debug, Clone)]
struct Sub {
    id: String,
    name: String,
    section: usize,
    account: usize,
    home_region: usize,
    n_rg: u64,
}

#[derive(Debug, Clone)]
struct Section {
    id: String,
    name: String,
    profile: usize,
    cost_center: String,
}

#[derive(Debug, Clone)]
struct EnrollmentAccount {
    id: String,
    name: String,
    owner: String,
    cost_center: String,
}

#[derive(Debug, Clone)]
struct Profile {
    id: String,
    name: String,
}

#[derive(Debug, Clone)]
struct Commitment {
    kind: CommitKind,
    order_id: uuid::Uuid,
    id: uuid::Uuid,
    name: String,
    sub: u32,
    /// Reservations: meter and region covered.
    meter: usize,
    region: usize,
    /// Reservations: instance hours per day. Savings plans: USD per day.
    daily_capacity: Decimal,
    /// Reservations: hourly rate. Savings plans: discount factor applied to the unit price.
    rate: Decimal,
}

/// The generated "world" of one billing account: subscriptions, departments or invoice sections,
/// enrollment accounts, commitments. Resources are not stored: they are hashed on demand.
#[derive(Debug)]
pub struct Universe {
    spec: DataSpec,
    seed: u64,
    n_res: u64,
    subs: Vec<Sub>,
    sections: Vec<Section>,
    accounts: Vec<EnrollmentAccount>,
    profiles: Vec<Profile>,
    commitments: Vec<Commitment>,
    /// (meter, region) -> reservation index, for reservable pairs that have one.
    reserved: Vec<((usize, usize), usize)>,
    savings_plans: Vec<usize>,
    /// EA negotiated discount in percent on PAYG.
    discount_pct: u32,
    /// Pricing (USD) to billing currency rate.
    fx: Decimal,
}

struct Res {
    sub: u32,
    meter: usize,
    region: usize,
    rg: u64,
}

const ENVS: &[&str] = &["prod", "dev", "test", "staging"];
const APPS: &[&str] = &[
    "billing", "web", "api", "data", "ml", "shop", "crm", "erp", "search", "edge",
];
const DEPTS: &[&str] = &[
    "Engineering",
    "Finance",
    "Marketing",
    "Research",
    "Operations",
    "Sales",
    "IT",
    "Legal",
];

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn days_in_month(d: Date) -> u8 {
    d.month().length(d.year())
}

fn last_of_month(d: Date) -> Date {
    d.replace_day(days_in_month(d)).unwrap_or(d)
}

fn day_number(d: Date) -> u64 {
    d.to_julian_day().max(0) as u64
}

/// 4-3-3-3 style ids (`ABCD-EFG-HIJ-KLM`) of MCA billing profiles and invoice sections.
fn mca_code(x: u64) -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut s = String::with_capacity(16);
    let mut v = x;
    for (i, len) in [4usize, 3, 3, 3].iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        for _ in 0..*len {
            s.push(A[(v % A.len() as u64) as usize] as char);
            v = crate::rng::mix(v);
        }
    }
    s
}

impl Universe {
    pub fn new(spec: DataSpec) -> Self {
        let cat = catalog();
        let seed = h(&[spec.seed, hs(&spec.billing_account_id)]);
        let rows = spec.rows_per_month.max(1);
        // One row per resource and day, resources run on ~96% of days: rows / (30 x 0.96).
        let n_res = (rows * 25 / 720).max(1);
        let n_subs = (n_res / 40).clamp(2, 2000) as usize;
        let n_accounts = (n_subs / 4).clamp(1, 200);
        let n_sections = (n_accounts / 2).clamp(1, 20);
        let n_profiles = if spec.agreement == Agreement::Mca {
            (n_sections / 4).clamp(1, 3)
        } else {
            1
        };
        let is_ea = spec.agreement == Agreement::Ea;
        let profiles: Vec<Profile> = (0..n_profiles)
            .map(|p| {
                if is_ea {
                    Profile {
                        id: spec.billing_account_id.clone(),
                        name: spec.billing_account_name.clone(),
                    }
                } else {
                    Profile {
                        id: mca_code(h(&[seed, 11, p as u64])),
                        name: format!("{} Billing Profile {}", spec.billing_account_name, p + 1),
                    }
                }
            })
            .collect();
        let sections: Vec<Section> = (0..n_sections)
            .map(|s| {
                let name = format!(
                    "{}{}",
                    DEPTS[s % DEPTS.len()],
                    if s >= DEPTS.len() {
                        format!(" {}", s / DEPTS.len() + 1)
                    } else {
                        String::new()
                    }
                );
                Section {
                    id: if is_ea {
                        (100_000 + below(h(&[seed, 12, s as u64]), 800_000)).to_string()
                    } else {
                        mca_code(h(&[seed, 13, s as u64]))
                    },
                    name,
                    profile: s % n_profiles,
                    cost_center: format!("CC{:04}", below(h(&[seed, 14, s as u64]), 10_000)),
                }
            })
            .collect();
        let accounts: Vec<EnrollmentAccount> = (0..n_accounts)
            .map(|a| {
                let app = APPS[a % APPS.len()];
                EnrollmentAccount {
                    id: (200_000 + below(h(&[seed, 15, a as u64]), 700_000)).to_string(),
                    name: format!("{} Team {}", app.to_uppercase(), a + 1),
                    owner: format!("{app}{}@contoso.onmicrosoft.com", a + 1),
                    cost_center: format!("CC{:04}", below(h(&[seed, 16, a as u64]), 10_000)),
                }
            })
            .collect();
        let subs: Vec<Sub> = (0..n_subs)
            .map(|s| {
                let x = h(&[seed, 17, s as u64]);
                let account = s % n_accounts;
                Sub {
                    id: guid(seed, h(&[18, s as u64])).to_string(),
                    name: format!(
                        "{}-{}-{:03}",
                        APPS[(x % APPS.len() as u64) as usize],
                        ENVS[below(crate::rng::mix(x), ENVS.len() as u64) as usize],
                        s + 1
                    ),
                    section: account % n_sections,
                    account,
                    home_region: below(h(&[seed, 19, s as u64]), cat.regions.len() as u64) as usize,
                    n_rg: 2 + below(h(&[seed, 20, s as u64]), 6),
                }
            })
            .collect();
        let discount_pct = if is_ea {
            5 + below(h(&[seed, 21]), 15) as u32
        } else {
            0
        };
        let fx = match spec.currency.as_str() {
            "USD" => Decimal::ONE,
            "EUR" => Decimal::new(9213, 4),
            "GBP" => Decimal::new(7894, 4),
            "JPY" => Decimal::new(14987, 2),
            _ => Decimal::new(10000 + below(h(&[seed, 22]), 5000) as i64, 4),
        };
        let mut u = Universe {
            spec,
            seed,
            n_res,
            subs,
            sections,
            accounts,
            profiles,
            commitments: Vec::new(),
            reserved: Vec::new(),
            savings_plans: Vec::new(),
            discount_pct,
            fx,
        };
        u.plan_commitments(cat);
        u
    }

    fn plan_commitments(&mut self, cat: &Catalog) {
        // Count reservable (meter, region) pairs and savings-plan-eligible daily spend.
        let mut pairs: Vec<((usize, usize), u64)> = Vec::new();
        for i in 0..self.n_res {
            let r = self.res(i);
            if cat.meters[r.meter].reservable {
                match pairs.iter_mut().find(|(k, _)| *k == (r.meter, r.region)) {
                    Some((_, c)) => *c += 1,
                    None => pairs.push(((r.meter, r.region), 1)),
                }
            }
        }
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let n_reservations = (1 + self.n_res / 2000).min(20) as usize;
        for (k, ((meter, region), count)) in pairs.into_iter().take(n_reservations).enumerate() {
            let capacity = ((count * 8).div_ceil(10)).max(1);
            let rate = (self.unit_price(meter) * Decimal::new(6, 1)).round_dp(6);
            let m = &cat.meters[meter];
            let id = guid(self.seed, h(&[31, k as u64]));
            self.reserved
                .push(((meter, region), self.commitments.len()));
            self.commitments.push(Commitment {
                kind: CommitKind::Reservation,
                order_id: guid(self.seed, h(&[30, k as u64])),
                id,
                name: format!(
                    "RI_{}_{}_{}",
                    m.name.replace([' ', '/'], ""),
                    cat.regions[region].id,
                    k + 1
                ),
                sub: below(h(&[self.seed, 32, k as u64]), self.subs.len() as u64) as u32,
                meter,
                region,
                daily_capacity: Decimal::from(capacity * 24),
                rate,
            });
        }
        if self.n_res >= 20 {
            let n_sp = (1 + self.n_res / 5000).min(5) as usize;
            // Expected eligible daily spend at the savings-plan rate per plan.
            let mut spend = vec![Decimal::ZERO; n_sp];
            for i in 0..self.n_res {
                if let Some(p) = self.sp_candidate(i, n_sp) {
                    let r = self.res(i);
                    spend[p] += self.unit_price(r.meter) * Decimal::new(72, 2) * Decimal::from(24);
                }
            }
            for (p, s) in spend.into_iter().enumerate() {
                let daily = (s * Decimal::new(85, 2)).round_dp(2);
                if daily <= Decimal::ZERO {
                    continue;
                }
                self.savings_plans.push(self.commitments.len());
                self.commitments.push(Commitment {
                    kind: CommitKind::SavingsPlan,
                    order_id: guid(self.seed, h(&[33, p as u64])),
                    id: guid(self.seed, h(&[34, p as u64])),
                    name: format!("Compute_SavingsPlan_{}", p + 1),
                    sub: below(h(&[self.seed, 35, p as u64]), self.subs.len() as u64) as u32,
                    meter: 0,
                    region: 0,
                    daily_capacity: daily,
                    rate: Decimal::new(72, 2),
                });
            }
        }
    }

    pub fn spec(&self) -> &DataSpec {
        &self.spec
    }

    /// Subscription ids of this account.
    pub fn subscription_ids(&self) -> Vec<String> {
        self.subs.iter().map(|s| s.id.clone()).collect()
    }

    /// (id, name) of EA departments / MCA invoice sections.
    pub fn sections(&self) -> Vec<(String, String, String)> {
        self.sections
            .iter()
            .map(|s| (s.id.clone(), s.name.clone(), s.cost_center.clone()))
            .collect()
    }

    /// (id, name, cost center) of EA enrollment accounts.
    pub fn enrollment_accounts(&self) -> Vec<(String, String, String)> {
        self.accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone(), a.cost_center.clone()))
            .collect()
    }

    /// (id, name) of MCA billing profiles.
    pub fn billing_profiles(&self) -> Vec<(String, String)> {
        self.profiles
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect()
    }

    /// The MCA invoice id of a billing profile (by index) for the month of `d`.
    pub fn invoice_id(&self, profile: usize, d: Date) -> String {
        format!(
            "G{:09}",
            below(
                h(&[
                    self.seed,
                    60,
                    profile as u64,
                    d.year() as u64,
                    u64::from(u8::from(d.month()))
                ]),
                1_000_000_000
            )
        )
    }

    pub fn resource_count(&self) -> u64 {
        self.n_res
    }

    fn res(&self, i: u64) -> Res {
        let cat = catalog();
        let sub = below(h(&[self.seed, 1, i]), self.subs.len() as u64) as u32;
        let meter = cat.pick_meter(h(&[self.seed, 2, i]));
        let home = self.subs[sub as usize].home_region;
        let region = if chance(h(&[self.seed, 3, i]), 800) {
            home
        } else {
            below(h(&[self.seed, 4, i]), cat.regions.len() as u64) as usize
        };
        let rg = below(h(&[self.seed, 5, i]), self.subs[sub as usize].n_rg);
        Res {
            sub,
            meter,
            region,
            rg,
        }
    }

    fn unit_price(&self, meter: usize) -> Decimal {
        let payg = catalog().meters[meter].payg;
        (payg * Decimal::from(100 - self.discount_pct) / Decimal::from(100)).round_dp(6)
    }

    fn reservation_for(&self, meter: usize, region: usize) -> Option<usize> {
        self.reserved
            .iter()
            .find(|(k, _)| *k == (meter, region))
            .map(|(_, c)| *c)
    }

    fn sp_candidate(&self, i: u64, n_sp: usize) -> Option<usize> {
        if n_sp == 0 {
            return None;
        }
        let r = self.res(i);
        let m = &catalog().meters[r.meter];
        if !m.savings_plan
            || (m.reservable && self.reserved.iter().any(|(k, _)| *k == (r.meter, r.region)))
        {
            return None;
        }
        if !chance(h(&[self.seed, 6, i]), 500) {
            return None;
        }
        Some((i % n_sp as u64) as usize)
    }

    fn quantity(&self, i: u64, meter: usize, day: Date) -> Option<Decimal> {
        let d = day_number(day);
        let x = h(&[self.seed, 7, i, d]);
        if chance(x, 40) {
            return None; // not running that day
        }
        let m = &catalog().meters[meter];
        let y = crate::rng::mix(x);
        Some(match m.qty {
            QtyKind::Hours => {
                if chance(y, 850) {
                    Decimal::from(24)
                } else {
                    Decimal::from(1 + below(y, 23))
                }
            }
            QtyKind::Monthly => {
                let per_day = (Decimal::ONE / Decimal::from(days_in_month(day))).round_dp(6);
                let size = if m.unit == "1/Month" {
                    Decimal::ONE
                } else {
                    Decimal::from(1 + below(h(&[self.seed, 8, i]), 2048))
                };
                size * per_day
            }
            QtyKind::Units => {
                if m.unit == "1/Day" {
                    Decimal::from(1 + below(y, 20))
                } else {
                    Decimal::new((1 + below(y, 200_000)) as i64, 4)
                }
            }
        })
    }

    fn matches(&self, filter: &ScopeFilter, sub: u32) -> bool {
        let s = &self.subs[sub as usize];
        match filter {
            ScopeFilter::All => true,
            ScopeFilter::Subscription(id) => s.id.eq_ignore_ascii_case(id),
            ScopeFilter::Section(id) => self.sections[s.section].id.eq_ignore_ascii_case(id),
            ScopeFilter::EnrollmentAccount(id) => self.accounts[s.account].id == *id,
            ScopeFilter::BillingProfile(id) => self.profiles[self.sections[s.section].profile]
                .id
                .eq_ignore_ascii_case(id),
        }
    }
}

/// The generator for one billing account (cheap to clone).
#[derive(Debug, Clone)]
pub struct Generator {
    u: Arc<Universe>,
}

/// A generation request: metric, inclusive date range, scope, and the day data stops (today).
#[derive(Debug, Clone)]
pub struct Request {
    pub metric: Metric,
    pub from: Date,
    pub to: Date,
    pub filter: ScopeFilter,
    /// Rows exist only for days before this one.
    pub until: Date,
}

impl Generator {
    pub fn new(spec: DataSpec) -> Self {
        Generator {
            u: Arc::new(Universe::new(spec)),
        }
    }

    pub fn universe(&self) -> &Universe {
        &self.u
    }

    /// The rows of a request, in file order.
    pub fn rows(&self, req: &Request) -> RowIter {
        let start = req.from.max(first_of_month(self.u.spec.data_start));
        let last = req.to.min(req.until.previous_day().unwrap_or(req.until));
        RowIter {
            u: self.u.clone(),
            metric: req.metric,
            filter: req.filter.clone(),
            day: start,
            last,
            phase: if start > last {
                Phase::Done
            } else {
                Phase::DayStart
            },
            remaining: vec![Decimal::ZERO; self.u.commitments.len()],
            pending: VecDeque::new(),
            emitted: 0,
            invoiced_before: first_of_month(req.until),
        }
    }

    /// Whether a request has no row at all (cheap: checks dates and scope only).
    pub fn is_empty(&self, req: &Request) -> bool {
        let start = req.from.max(first_of_month(self.u.spec.data_start));
        let last = req.to.min(req.until.previous_day().unwrap_or(req.until));
        start > last
            || self.u.spec.rows_per_month == 0
            || !(0..self.u.subs.len() as u32).any(|s| self.u.matches(&req.filter, s))
    }

    /// `EF BB BF` + header line.
    pub fn header_bytes(&self) -> Vec<u8> {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice(self.u.spec.layout.header().join(",").as_bytes());
        b.push(b'\n');
        b
    }

    /// Append one CSV line for `row`.
    pub fn write_row(&self, row: &CostRow, out: &mut Vec<u8>) {
        let mut w = RowWriter {
            u: &self.u,
            row,
            scratch: String::new(),
        };
        w.write(out);
    }

    /// Stream a whole file (BOM, header, rows) into `w`; returns (rows, bytes).
    pub fn write_csv<W: Write>(&self, req: &Request, mut w: W) -> std::io::Result<(u64, u64)> {
        let head = self.header_bytes();
        w.write_all(&head)?;
        let mut bytes = head.len() as u64;
        let mut n = 0u64;
        let mut buf = Vec::with_capacity(1024);
        for row in self.rows(req) {
            buf.clear();
            self.write_row(&row, &mut buf);
            w.write_all(&buf)?;
            bytes += buf.len() as u64;
            n += 1;
        }
        w.flush()?;
        Ok((n, bytes))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    DayStart,
    Resources(u64),
    DayEnd,
    Done,
}

/// A resumable cursor over generated rows.
#[derive(Debug, Clone)]
pub struct RowIter {
    u: Arc<Universe>,
    metric: Metric,
    filter: ScopeFilter,
    day: Date,
    last: Date,
    phase: Phase,
    remaining: Vec<Decimal>,
    pending: VecDeque<CostRow>,
    emitted: u64,
    invoiced_before: Date,
}

impl RowIter {
    fn amortized(&self) -> bool {
        self.metric == Metric::AmortizedCost
    }

    fn day_start(&mut self) {
        let u = self.u.clone();
        let day = self.day;
        for (k, c) in u.commitments.iter().enumerate() {
            self.remaining[k] = c.daily_capacity;
        }
        if day.day() == 1 {
            if !self.amortized() {
                for (k, c) in u.commitments.iter().enumerate() {
                    let dim = Decimal::from(days_in_month(day));
                    let amount = match c.kind {
                        CommitKind::Reservation => c.daily_capacity * c.rate * dim,
                        CommitKind::SavingsPlan => c.daily_capacity * dim,
                    };
                    self.pending.push_back(CostRow {
                        date: day,
                        kind: if c.kind == CommitKind::Reservation {
                            RowKind::ReservationPurchase
                        } else {
                            RowKind::SavingsPlanPurchase
                        },
                        sub: c.sub,
                        resource: None,
                        meter: (c.kind == CommitKind::Reservation).then_some(c.meter),
                        region: c.region,
                        commitment: Some(k),
                        quantity: Decimal::ONE,
                        unit_price: amount,
                        effective_price: amount,
                        payg_price: Decimal::ZERO,
                        cost: amount,
                        invoiced: false,
                    });
                }
            }
            // A monthly credit (both metrics).
            if u.n_res >= 10 {
                let amount = -Decimal::new(
                    (500 + below(h(&[u.seed, 40, day_number(day)]), 20_000)) as i64,
                    2,
                );
                self.pending.push_back(CostRow {
                    date: day,
                    kind: RowKind::Credit,
                    sub: 0,
                    resource: None,
                    meter: None,
                    region: 0,
                    commitment: None,
                    quantity: Decimal::ONE,
                    unit_price: amount,
                    effective_price: amount,
                    payg_price: Decimal::ZERO,
                    cost: amount,
                    invoiced: false,
                });
            }
        }
    }

    fn resource_day(&mut self, i: u64) {
        let u = self.u.clone();
        let r = u.res(i);
        let Some(q) = u.quantity(i, r.meter, self.day) else {
            return;
        };
        let unit = u.unit_price(r.meter);
        let payg = catalog().meters[r.meter].payg;
        let base = CostRow {
            date: self.day,
            kind: RowKind::Usage,
            sub: r.sub,
            resource: Some(i),
            meter: Some(r.meter),
            region: r.region,
            commitment: None,
            quantity: q,
            unit_price: unit,
            effective_price: unit,
            payg_price: payg,
            cost: q * unit,
            invoiced: false,
        };
        if let Some(k) = u.reservation_for(r.meter, r.region) {
            let c = &u.commitments[k];
            let covered = q.min(self.remaining[k]);
            if covered > Decimal::ZERO {
                self.remaining[k] -= covered;
                let (price, cost) = if self.amortized() {
                    (c.rate, covered * c.rate)
                } else {
                    (Decimal::ZERO, Decimal::ZERO)
                };
                self.pending.push_back(CostRow {
                    kind: RowKind::ReservationUsage,
                    commitment: Some(k),
                    quantity: covered,
                    effective_price: price,
                    cost,
                    ..base.clone()
                });
            }
            let rest = q - covered;
            if rest > Decimal::ZERO {
                self.pending.push_back(CostRow {
                    quantity: rest,
                    cost: rest * unit,
                    ..base
                });
            }
            return;
        }
        if let Some(p) = u.sp_candidate(i, u.savings_plans.len()) {
            let k = u.savings_plans[p];
            let c = &u.commitments[k];
            let price = (unit * c.rate).round_dp(6);
            let sp_cost = q * price;
            if sp_cost <= self.remaining[k] {
                self.remaining[k] -= sp_cost;
                let (eff, cost) = if self.amortized() {
                    (price, sp_cost)
                } else {
                    (Decimal::ZERO, Decimal::ZERO)
                };
                self.pending.push_back(CostRow {
                    kind: RowKind::SavingsPlanUsage,
                    commitment: Some(k),
                    effective_price: eff,
                    cost,
                    ..base
                });
                return;
            }
        }
        self.pending.push_back(base);
    }

    fn day_end(&mut self) {
        let u = self.u.clone();
        if self.amortized() {
            for (k, c) in u.commitments.iter().enumerate() {
                let left = self.remaining[k];
                if left <= Decimal::ZERO {
                    continue;
                }
                let (kind, qty, price) = match c.kind {
                    CommitKind::Reservation => (RowKind::UnusedReservation, left, c.rate),
                    CommitKind::SavingsPlan => (RowKind::UnusedSavingsPlan, left, Decimal::ONE),
                };
                self.pending.push_back(CostRow {
                    date: self.day,
                    kind,
                    sub: c.sub,
                    resource: None,
                    meter: (c.kind == CommitKind::Reservation).then_some(c.meter),
                    region: c.region,
                    commitment: Some(k),
                    quantity: qty,
                    unit_price: price,
                    effective_price: price,
                    payg_price: Decimal::ZERO,
                    cost: qty * price,
                    invoiced: false,
                });
            }
        }
        // A marketplace refund on the 20th (both metrics).
        if self.day.day() == 20 && u.n_res >= 10 {
            let cat = catalog();
            if let Some(meter) = cat.meters.iter().position(|m| m.publisher.is_some()) {
                let amount = -Decimal::new(
                    (100 + below(h(&[u.seed, 41, day_number(self.day)]), 5_000)) as i64,
                    2,
                );
                self.pending.push_back(CostRow {
                    date: self.day,
                    kind: RowKind::Refund,
                    sub: 0,
                    resource: None,
                    meter: Some(meter),
                    region: 0,
                    commitment: None,
                    quantity: Decimal::ONE,
                    unit_price: amount,
                    effective_price: amount,
                    payg_price: Decimal::ZERO,
                    cost: amount,
                    invoiced: false,
                });
            }
        }
    }
}

impl Iterator for RowIter {
    type Item = CostRow;

    fn next(&mut self) -> Option<CostRow> {
        loop {
            if let Some(mut row) = self.pending.pop_front() {
                if self.u.matches(&self.filter, row.sub) {
                    row.invoiced = last_of_month(row.date) < self.invoiced_before;
                    self.emitted += 1;
                    return Some(row);
                }
                continue;
            }
            match self.phase {
                Phase::Done => return None,
                Phase::DayStart => {
                    self.day_start();
                    self.phase = Phase::Resources(0);
                }
                Phase::Resources(i) if i < self.u.n_res => {
                    self.resource_day(i);
                    self.phase = Phase::Resources(i + 1);
                }
                Phase::Resources(_) => {
                    self.day_end();
                    self.phase = Phase::DayEnd;
                }
                Phase::DayEnd => {
                    if self.day >= self.last {
                        self.phase = Phase::Done;
                    } else {
                        self.day += Duration::days(1);
                        self.phase = Phase::DayStart;
                    }
                }
            }
        }
    }
}

fn mdy(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", u8::from(d.month()), d.day(), d.year())
}

fn num(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        "0".to_string()
    } else {
        n.to_string()
    }
}

struct RowWriter<'a> {
    u: &'a Universe,
    row: &'a CostRow,
    scratch: String,
}

impl RowWriter<'_> {
    fn write(&mut self, out: &mut Vec<u8>) {
        let cols = self.u.spec.layout.columns();
        for (i, (_, col)) in cols.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.scratch.clear();
            self.value(*col);
            push_field(out, &self.scratch);
        }
        out.push(b'\n');
    }

    fn is_mca(&self) -> bool {
        self.u.spec.agreement == Agreement::Mca
    }

    fn real(&self) -> bool {
        self.u.spec.widths == Widths::Real
    }

    fn resource_app(&self, i: u64) -> &'static str {
        APPS[below(h(&[self.u.seed, 9, i]), APPS.len() as u64) as usize]
    }

    fn resource_name(&self, i: u64) -> String {
        let m = &catalog().meters[self.u.res(i).meter];
        if self.real() {
            return widths::resource_name(self.u.seed, i, &m.prefix, self.resource_app(i));
        }
        format!("{}-{}-{:05}", m.prefix, self.resource_app(i), i)
    }

    fn rg_name(&self, i: u64) -> String {
        let r = self.u.res(i);
        let s = &self.u.subs[r.sub as usize];
        let app = s.name.split('-').next().unwrap_or("app");
        if self.real() {
            let env = s.name.split('-').nth(1).unwrap_or("prod");
            return widths::rg_name(self.u.seed, u64::from(r.sub), r.rg, app, env);
        }
        format!("rg-{app}-{}", r.rg + 1)
    }

    fn subscription_name(&self, sub: &Sub) -> String {
        if self.real() {
            let mut parts = sub.name.split('-');
            let (app, env) = (
                parts.next().unwrap_or("app"),
                parts.next().unwrap_or("prod"),
            );
            return widths::subscription_name(
                app,
                env,
                parts.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            );
        }
        sub.name.clone()
    }

    fn commitment(&self) -> Option<&Commitment> {
        self.row.commitment.and_then(|k| self.u.commitments.get(k))
    }

    fn benefit_id(&self, c: &Commitment) -> String {
        match c.kind {
            CommitKind::Reservation => format!(
                "/providers/Microsoft.Capacity/reservationOrders/{}/reservations/{}",
                c.order_id, c.id
            ),
            CommitKind::SavingsPlan => format!(
                "/providers/Microsoft.BillingBenefits/savingsPlanOrders/{}/savingsPlans/{}",
                c.order_id, c.id
            ),
        }
    }

    fn product_order_name(&self, c: &Commitment) -> String {
        let cat = catalog();
        match c.kind {
            CommitKind::Reservation => {
                let m = &cat.meters[c.meter];
                format!(
                    "Reserved {} Instance, Standard_{}, {}, 1 Year",
                    if m.category == "Virtual Machines" {
                        "VM"
                    } else {
                        m.category.as_str()
                    },
                    m.name.replace(' ', "_"),
                    cat.regions[c.region].name
                )
            }
            CommitKind::SavingsPlan => "Compute Savings Plan, 1 Year".to_string(),
        }
    }

    fn cost_billing(&self) -> Decimal {
        if self.is_mca() {
            self.row.cost * self.u.fx
        } else {
            self.row.cost
        }
    }

    fn value(&mut self, col: Col) {
        let cat = catalog();
        let row = self.row;
        let u = self.u;
        let sub = &u.subs[row.sub as usize];
        let section = &u.sections[sub.section];
        let account = &u.accounts[sub.account];
        let profile = &u.profiles[section.profile];
        let meter = row.meter.map(|m| &cat.meters[m]);
        let region = &cat.regions[row.region.min(cat.regions.len().saturating_sub(1))];
        let has_location = row.resource.is_some()
            || matches!(
                row.kind,
                RowKind::UnusedReservation | RowKind::ReservationPurchase
            );
        let s = &mut String::new();
        match col {
            Col::InvoiceSectionName => s.push_str(&section.name),
            Col::InvoiceSectionId => s.push_str(&section.id),
            Col::AccountName => s.push_str(&account.name),
            Col::AccountOwnerId => s.push_str(&account.owner),
            Col::AccountId => s.push_str(&account.id),
            Col::SubscriptionId => s.push_str(&sub.id),
            Col::SubscriptionName => s.push_str(&self.subscription_name(sub)),
            Col::ResourceGroup => {
                if let Some(i) = row.resource {
                    s.push_str(&self.rg_name(i));
                }
            }
            Col::ResourceLocation => {
                if has_location {
                    s.push_str(&region.id);
                }
            }
            Col::ResourceLocationNormalized | Col::Location => {
                if has_location {
                    s.push_str(&region.name);
                }
            }
            Col::MeterRegion => {
                if meter.is_some() && row.kind != RowKind::Refund {
                    s.push_str(&region.name);
                }
            }
            Col::Date => s.push_str(&mdy(row.date)),
            Col::ProductName => match (row.kind, meter, self.commitment()) {
                (RowKind::ReservationPurchase | RowKind::SavingsPlanPurchase, _, Some(c)) => {
                    s.push_str(&self.product_order_name(c))
                }
                (RowKind::UnusedSavingsPlan, _, _) => s.push_str("Compute Savings Plan"),
                (RowKind::Credit, _, _) => s.push_str("Azure Credit"),
                (_, Some(m), _) => {
                    let _ = write!(
                        s,
                        "{}{}{} - {} - {}",
                        m.category,
                        if m.subcategory.is_empty() { "" } else { " " },
                        m.subcategory,
                        m.name,
                        region.name
                    );
                }
                _ => {}
            },
            Col::MeterCategory => {
                if let Some(m) = meter {
                    s.push_str(&m.category);
                }
            }
            Col::MeterSubCategory => {
                if let Some(m) = meter {
                    s.push_str(&m.subcategory);
                }
            }
            Col::MeterName => {
                if let Some(m) = meter {
                    s.push_str(&m.name);
                }
            }
            Col::MeterId => {
                if let Some(m) = row.meter {
                    let _ = write!(
                        s,
                        "{}",
                        guid(hs(&cat.meters[m].name) ^ m as u64, row.region as u64)
                    );
                }
            }
            Col::UnitOfMeasure => match (row.kind, meter) {
                (
                    RowKind::UnusedSavingsPlan | RowKind::SavingsPlanPurchase | RowKind::Credit,
                    _,
                ) => s.push('1'),
                (RowKind::ReservationPurchase, _) => s.push_str("1 Hour"),
                (_, Some(m)) => s.push_str(&m.unit),
                _ => s.push('1'),
            },
            Col::Quantity => s.push_str(&num(row.quantity)),
            Col::EffectivePrice => s.push_str(&num(row.effective_price)),
            Col::UnitPrice => s.push_str(&num(row.unit_price)),
            Col::PayGPrice => s.push_str(&num(row.payg_price)),
            Col::CostInBillingCurrency => s.push_str(&num(self.cost_billing())),
            Col::CostInPricingCurrency | Col::CostInUsd => s.push_str(&num(row.cost)),
            Col::PaygCostInBillingCurrency | Col::PaygCostInUsd => {
                let payg = if row.resource.is_some() {
                    row.quantity * row.payg_price
                } else {
                    row.cost
                };
                let v = if col == Col::PaygCostInBillingCurrency {
                    payg * u.fx
                } else {
                    payg
                };
                s.push_str(&num(v));
            }
            Col::ExchangeRatePricingToBilling => s.push_str(&num(u.fx)),
            Col::ExchangeRateDate => s.push_str(&mdy(first_of_month(row.date))),
            Col::PricingCurrency => s.push_str(if self.is_mca() {
                "USD"
            } else {
                &u.spec.currency
            }),
            Col::BillingCurrencyCode => s.push_str(&u.spec.currency),
            Col::CostCenter => s.push_str(if self.is_mca() {
                &section.cost_center
            } else {
                &account.cost_center
            }),
            Col::ConsumedService => match (row.kind.commitment(), meter) {
                (Some(CommitKind::Reservation), _) if row.resource.is_none() => {
                    s.push_str("Microsoft.Capacity")
                }
                (Some(CommitKind::SavingsPlan), _) if row.resource.is_none() => {
                    s.push_str("Microsoft.BillingBenefits")
                }
                (_, Some(m)) if row.kind != RowKind::Credit => s.push_str(&m.consumed_service),
                _ => {}
            },
            Col::ResourceId => match (row.resource, self.commitment()) {
                (Some(i), _) => {
                    let m = &cat.meters[self.u.res(i).meter];
                    let name = self.resource_name(i);
                    let _ = write!(
                        s,
                        "/subscriptions/{}/resourceGroups/{}/providers/{}",
                        sub.id,
                        self.rg_name(i),
                        m.consumed_service
                    );
                    for seg in m.resource_type.split('/').skip(1) {
                        let _ = write!(s, "/{seg}/{name}");
                    }
                }
                (None, Some(c)) => s.push_str(&self.benefit_id(c)),
                _ => {}
            },
            Col::ResourceName => {
                if let Some(i) = row.resource {
                    s.push_str(&self.resource_name(i));
                }
            }
            Col::Tags => {
                if let Some(i) = row.resource {
                    let x = h(&[u.seed, 10, i]);
                    let env = ENVS[below(x, ENVS.len() as u64) as usize];
                    let app = APPS[below(crate::rng::mix(x), APPS.len() as u64) as usize];
                    let cost_center = if self.is_mca() {
                        &section.cost_center
                    } else {
                        &account.cost_center
                    };
                    if self.real() {
                        s.push_str(&widths::tags(
                            u.seed,
                            i,
                            self.is_mca(),
                            &self.resource_name(i),
                            env,
                            app,
                            cost_center,
                        ));
                    } else if !chance(x, 200) {
                        if self.is_mca() {
                            let _ = write!(
                                s,
                                "{{\"env\":\"{env}\",\"app\":\"{app}\",\"costcenter\":\"{cost_center}\"}}"
                            );
                        } else {
                            let _ = write!(
                                s,
                                "\"env\": \"{env}\",\"app\": \"{app}\",\"costcenter\": \"{cost_center}\""
                            );
                        }
                    }
                }
            }
            Col::OfferId => s.push_str("MS-AZR-0017P"),
            Col::AdditionalInfo => {
                if let (Some(m), Some(i)) = (meter, row.resource) {
                    let vm = m.category == "Virtual Machines";
                    let reservation = self
                        .commitment()
                        .filter(|c| c.kind == CommitKind::Reservation)
                        .map(|c| (c.order_id, c.id));
                    if self.real() {
                        let meter_id = guid(
                            hs(&m.name) ^ row.meter.unwrap_or(0) as u64,
                            row.region as u64,
                        )
                        .to_string();
                        let size = m.name.replace(' ', "_");
                        let name = self.resource_name(i);
                        let input = widths::InfoInput {
                            seed: u.seed,
                            resource: i,
                            virtual_machine: vm,
                            vm_size: &size,
                            name: &name,
                            reservation,
                            meter_id: &meter_id,
                        };
                        s.push_str(&widths::additional_info(&input));
                    } else if vm {
                        let _ = write!(
                            s,
                            "{{\"UsageType\":\"ComputeHR\",\"ServiceType\":\"Standard_{}\",\"VMName\":\"{}\"",
                            m.name.replace(' ', "_"),
                            self.resource_name(i)
                        );
                        if let Some((order, id)) = reservation {
                            let _ = write!(
                                s,
                                ",\"ReservationOrderId\":\"{order}\",\"ReservationId\":\"{id}\""
                            );
                        }
                        s.push('}');
                    }
                }
            }
            Col::ServiceInfo1
            | Col::ServiceInfo2
            | Col::CostAllocationRuleName
            | Col::PreviousInvoiceId
            | Col::ResellerName
            | Col::ResellerMpnId => {}
            Col::ReservationId => {
                if let Some(c) = self
                    .commitment()
                    .filter(|c| c.kind == CommitKind::Reservation)
                {
                    let _ = write!(s, "{}", c.id);
                }
            }
            Col::ReservationName => {
                if let Some(c) = self
                    .commitment()
                    .filter(|c| c.kind == CommitKind::Reservation)
                {
                    s.push_str(&c.name);
                }
            }
            Col::ProductOrderId => match self.commitment() {
                Some(c) => {
                    let _ = write!(s, "{}", c.order_id);
                }
                None if self.is_mca() => {
                    let _ = write!(s, "{}", guid(u.seed, 50));
                }
                None => {}
            },
            Col::ProductOrderName => match self.commitment() {
                Some(c) => s.push_str(&self.product_order_name(c)),
                None if self.is_mca() => s.push_str("Azure plan"),
                None => {}
            },
            Col::Term => {
                if row.commitment.is_some() {
                    s.push_str("12");
                }
            }
            Col::PublisherType => match meter.and_then(|m| m.publisher.as_ref()) {
                Some(_) => s.push_str("Marketplace"),
                None => s.push_str(if self.is_mca() { "Microsoft" } else { "Azure" }),
            },
            Col::PublisherName => match meter.and_then(|m| m.publisher.as_ref()) {
                Some(p) => s.push_str(p),
                None if self.is_mca() => s.push_str("Microsoft"),
                None => {}
            },
            Col::PublisherId => {
                if let Some(p) = meter.and_then(|m| m.publisher.as_ref()) {
                    let _ = write!(s, "{}", guid(hs(p), 51));
                }
            }
            Col::PlanName => {
                if meter.and_then(|m| m.publisher.as_ref()).is_some() {
                    s.push_str("pro");
                }
            }
            Col::ChargeType => s.push_str(row.kind.charge_type()),
            Col::Frequency => s.push_str(row.kind.frequency()),
            Col::PricingModel => s.push_str(row.kind.pricing_model()),
            Col::AvailabilityZone => {
                if let (Some(m), Some(i)) = (meter, row.resource)
                    && m.category == "Virtual Machines"
                    && chance(h(&[u.seed, 11, i]), 300)
                {
                    let _ = write!(s, "{}", 1 + below(h(&[u.seed, 12, i]), 3));
                }
            }
            Col::BillingAccountId => s.push_str(&u.spec.billing_account_id),
            Col::BillingAccountName => s.push_str(&u.spec.billing_account_name),
            Col::BillingPeriodStartDate | Col::ServicePeriodStartDate => {
                s.push_str(&mdy(first_of_month(row.date)))
            }
            Col::BillingPeriodEndDate | Col::ServicePeriodEndDate => {
                s.push_str(&mdy(last_of_month(row.date)))
            }
            Col::BillingProfileId => s.push_str(&profile.id),
            Col::BillingProfileName => s.push_str(&profile.name),
            Col::IsAzureCreditEligible => s.push_str(
                if meter.and_then(|m| m.publisher.as_ref()).is_some() || row.kind == RowKind::Credit
                {
                    "False"
                } else {
                    "True"
                },
            ),
            Col::PartNumber => {
                if let Some(m) = row.meter {
                    let _ = write!(
                        s,
                        "{}-{:05}",
                        ["AAA", "AAD", "AAF", "AAH"][m % 4],
                        below(hs(&cat.meters[m].name), 100_000)
                    );
                }
            }
            Col::ServiceFamily => match meter {
                Some(m) => s.push_str(&m.family),
                None => s.push_str("Compute"),
            },
            Col::BenefitId => {
                if let Some(c) = self.commitment() {
                    s.push_str(&self.benefit_id(c));
                }
            }
            Col::BenefitName => {
                if let Some(c) = self.commitment() {
                    s.push_str(&c.name);
                }
            }
            Col::InvoiceId => {
                // Months that ended are invoiced: G + 9 digits, per billing profile and month.
                if row.invoiced {
                    s.push_str(&u.invoice_id(section.profile, row.date));
                }
            }
            Col::ProductId => {
                if let Some(m) = row.meter {
                    let _ = write!(
                        s,
                        "{}/{:04X}",
                        mca_code(hs(&cat.meters[m].name))
                            .replace('-', "")
                            .chars()
                            .take(12)
                            .collect::<String>(),
                        m
                    );
                }
            }
            Col::Provider => s.push_str("Azure"),
        }
        self.scratch.push_str(s);
    }
}

fn push_field(out: &mut Vec<u8>, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for b in v.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(v.as_bytes());
    }
}

/// Month helper for callers: first and last day of the month of `d`.
pub fn month_bounds(d: Date) -> (Date, Date) {
    (first_of_month(d), last_of_month(d))
}

/// Parse `YYYYMM`.
pub fn parse_billing_period(s: &str) -> Option<Date> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = s[..4].parse().ok()?;
    let m: u8 = s[4..].parse().ok()?;
    Date::from_calendar_date(y, Month::try_from(m).ok()?, 1).ok()
}

#[cfg(test)]
mod tests;
