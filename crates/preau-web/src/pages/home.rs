//! The home page: each person's work of the day. A teacher reports a problem in their
//! classroom and answers "is it fixed?"; a head follows the school's tickets, visits and
//! loans; a technician or a contractor gets today's visits and the queue by deadline; the
//! administrator what the deployment asks of them; an élu the key figures.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use preau_core::interventions::{self, InterventionFilter};
use preau_core::schools::Counts;
use preau_core::tickets::{self, TicketFilter};
use preau_core::{classes, contracts, jobs, pupils, schools, years};
use preau_domain::{Principal, Role, text};

use super::parts::visits::{VisitView, at_midnight, visit_view};
use super::tickets::{TicketRow, calendar_words, ticket_row, ticket_rows};
use super::{Ctx, LangTitle, render, role_labels};
use crate::AppState;
use crate::error::PageError;
use crate::session::Auth;

type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    name: String,
    roles: String,
    year: Option<String>,
    /// Where to report a problem: (link, label), the caller's classrooms first.
    report: Vec<(String, String)>,
    /// Fixed tickets waiting for the caller to say whether the fix holds.
    confirm: Vec<TicketRow>,
    /// The caller's own reports still open (a teacher's).
    mine: Vec<TicketRow>,
    /// A head's schools' open tickets, by deadline: how many, the first ones.
    school_tickets: Option<(String, Vec<TicketRow>)>,
    /// The work queue of those who fix (technician, contractor, administrator).
    queue: Option<Queue>,
    /// Visits: the heading's key, then each visit with its day.
    visits: Option<(&'static str, Vec<(String, VisitView)>)>,
    /// Loans a head still has to settle: (link, sentence).
    loans: Vec<(String, String)>,
    /// The administrator's list: (link, sentence).
    todo: Vec<(String, String)>,
    admin: bool,
    council: bool,
    show_figures: bool,
    counts: Counts,
    no_perimeter: bool,
    schools: Vec<schools::School>,
    /// An open needs campaign and what it asks of the caller: (link, sentence).
    needs: Option<(String, String)>,
    /// The caller's visio sessions to record, then those of the week ahead.
    visio: Vec<VisioTodo>,
    /// The school's shared kits and rooms to book, and the caller's next bookings.
    bookings: Option<super::bookings::HomeBookings>,
}

/// The queue's counts and its first tickets by deadline.
pub struct Queue {
    open: String,
    breached: String,
    at_risk: String,
    rows: Vec<TicketRow>,
}

/// The visio sessions of a teacher, a directeur or an intervenant: those ended in the last
/// two weeks and not recorded yet (state `record`), then the next ones of the week with
/// their room's readiness (`ready`, or `not_ready` and what is missing).
async fn visio_next(
    s: &AppState,
    p: &preau_domain::Principal,
) -> Result<Vec<VisioTodo>, PageError> {
    use preau_core::visio::{self, SessionFilter};
    use preau_domain::visio::SessionStatus;
    let reach = p.visio_reach();
    let close = p.has(Role::Intervenant) || p.has(Role::Enseignant) || p.has(Role::Directeur);
    if reach.is_empty() || reach.all || !close {
        return Ok(Vec::new());
    }
    let now = chrono::Utc::now();
    let window = |from, to| SessionFilter {
        from: Some(from),
        to: Some(to),
        status: Some(SessionStatus::Prevue),
        ..SessionFilter::default()
    };
    let ended = window(now - chrono::Duration::days(14), now);
    let mut out: Vec<VisioTodo> = visio::sessions(&s.db, p, &ended, 0, 20)
        .await?
        .into_iter()
        .filter(|x| x.ends_at < now)
        .map(|x| VisioTodo {
            id: x.id,
            what: format!(
                "{} — {} ({})",
                super::paris(x.starts_at),
                x.class_label,
                x.school
            ),
            state: "record",
            detail: String::new(),
        })
        .collect();
    let next = window(
        now - chrono::Duration::minutes(30),
        now + chrono::Duration::days(7),
    );
    let list = visio::sessions(&s.db, p, &next, 0, 5).await?;
    let places: Vec<visio::SessionPlace> = list.iter().map(Into::into).collect();
    let ready = visio::session_readiness(&s.db, &places).await?;
    out.extend(list.iter().filter(|x| x.ends_at >= now).map(|x| {
        let r = ready.get(&x.id);
        VisioTodo {
            id: x.id,
            what: format!(
                "{} — {} ({}), {}",
                super::paris(x.starts_at),
                x.class_label,
                x.school,
                x.room
            ),
            state: if r.is_some_and(|r| r.ready) {
                "ready"
            } else {
                "not_ready"
            },
            detail: r.map(|r| r.missing_words(p.lang)).unwrap_or_default(),
        }
    }));
    Ok(out)
}

/// A visio session on someone's home page.
pub struct VisioTodo {
    id: i64,
    what: String,
    state: &'static str,
    detail: String,
}

/// What an open needs campaign asks of the caller: a decision (administrator), an opinion
/// (ERUN/IEN), the school's requests (directeur).
async fn needs_todo(
    s: &AppState,
    p: &preau_domain::Principal,
) -> Result<Option<(String, String)>, PageError> {
    use preau_core::steering::needs;
    if !p.sees_some_coverage() {
        return Ok(None);
    }
    let today = super::today();
    let Some(open) = needs::campaigns(&s.db, p)
        .await?
        .into_iter()
        .find(|c| c.is_open(today))
    else {
        return Ok(None);
    };
    let view = needs::campaign(&s.db, p, open.id, chrono::Utc::now()).await?;
    let t = |k| crate::i18n::t(p.lang, k);
    let until = open.closes_on.format("%d/%m/%Y");
    let waiting = view.totals[0];
    let sentence = if p.can_decide_needs() {
        format!("{} : {waiting} {}", open.title, t("needs.home_to_decide"))
    } else if view
        .requests
        .iter()
        .any(|r| p.can_give_opinion(r.school_id))
    {
        let n = view
            .requests
            .iter()
            .filter(|r| p.can_give_opinion(r.school_id) && r.opinion.is_none())
            .count();
        format!("{} : {n} {}", open.title, t("needs.home_to_opine"))
    } else if p.has(Role::Directeur) {
        format!(
            "{} {} {until} : {}",
            open.title,
            t("needs.home_open_until"),
            t("needs.home_ask")
        )
    } else {
        return Ok(None);
    };
    Ok(Some((format!("/needs/{}", open.id), sentence)))
}

/// Tickets by deadline as the home page lists them, with their working time left.
async fn rows(
    s: &AppState,
    p: &Principal,
    f: &TicketFilter,
    limit: i64,
) -> Result<Vec<TicketRow>, PageError> {
    let (items, _) = tickets::by_deadline(&s.db, p, f, None, limit).await?;
    ticket_rows(s, p, &items).await
}

fn open_filter() -> TicketFilter {
    TicketFilter {
        status: Some("open".into()),
        ..TicketFilter::default()
    }
}

async fn count(s: &AppState, p: &Principal, f: &TicketFilter) -> Result<String, PageError> {
    Ok(preau_domain::sla::thousands(
        tickets::count(&s.db, p, f).await?,
    ))
}

/// Where a teacher or a head reports a problem: the rooms of the classes they teach this
/// year (a class whose teacher is written with their name), then each of their schools.
async fn report_links(
    s: &AppState,
    p: &Principal,
    listed: &[schools::School],
    year: Option<i64>,
) -> Result<Vec<(String, String)>, PageError> {
    if !(p.has(Role::Enseignant) || p.has(Role::Directeur)) || p.is_admin() {
        return Ok(Vec::new());
    }
    let t = |k| crate::i18n::t(p.lang, k);
    let mut out = Vec::new();
    let mine: Vec<&schools::School> = listed.iter().filter(|x| p.can_report(x.id)).collect();
    if let Some(y) = year {
        for school in &mine {
            for c in classes::list_for_school(&s.db, p, school.id, Some(y)).await? {
                let teaches = c
                    .teacher_name
                    .as_deref()
                    .is_some_and(|n| text::same_person(n, &p.display_name));
                if let (true, Some(room), Some(name)) = (teaches, c.room_id, &c.room_name) {
                    out.push((
                        format!("/tickets/new?room_id={room}"),
                        format!("{} — {name} ({})", t("report.title"), c.label),
                    ));
                }
            }
        }
    }
    for school in &mine {
        let label = if mine.len() == 1 && out.is_empty() {
            t("report.title").to_string()
        } else {
            format!("{} — {}", t("report.title"), school.name)
        };
        out.push((format!("/tickets/new?school_id={}", school.id), label));
    }
    Ok(out)
}

/// The administrator's list: imports due, backups, access requests, devices to place,
/// mails given up, silent devices, contracts ending.
async fn admin_todo(
    s: &AppState,
    p: &Principal,
    year: Option<&years::SchoolYear>,
    gaps: &preau_core::calendar::CalendarGaps,
) -> Result<Vec<(String, String)>, PageError> {
    use preau_core::inventory::devices::{self, DeviceFilter};
    let t = |k| crate::i18n::t(p.lang, k);
    let mut out = Vec::new();
    let today = super::today();
    for y in [&gaps.current, &gaps.next].into_iter().flatten() {
        out.push((
            "/admin/assistance".to_string(),
            t("home.todo_calendar").replace("{}", y),
        ));
    }
    match year {
        None => out.push(("/school-years".into(), t("home.todo_no_year").into())),
        Some(y) => {
            let waiting = pupils::schools_awaiting_onde(&s.db, p, y.id).await?;
            if let Some((first, _)) = waiting.first() {
                out.push((
                    format!("/schools/{first}/onde"),
                    t("home.todo_onde")
                        .replace("{year}", &y.label)
                        .replace("{n}", &waiting.len().to_string()),
                ));
            }
        }
    }
    let (_, late) = super::admin::backup_state(s, p.lang).await?;
    if late {
        out.push(("/admin".into(), t("home.todo_backup").into()));
    }
    let asking = preau_core::signin::waiting(&s.db, p.collectivite_id).await?;
    if asking > 0 {
        out.push((
            "/admin/access".into(),
            t("home.todo_access").replace("{n}", &asking.to_string()),
        ));
    }
    let now = Utc::now();
    let total = |f: DeviceFilter| async move {
        Ok::<i64, PageError>(devices::list(&s.db, p, &f, now, 0, 1).await?.total)
    };
    let unplaced = total(DeviceFilter {
        unplaced: Some(true),
        ..DeviceFilter::default()
    })
    .await?;
    if unplaced > 0 {
        out.push((
            "/devices?unplaced=true".into(),
            format!("{unplaced} {}", t("home.todo_unplaced")),
        ));
    }
    let (_, failed) = jobs::mail_counts(&s.db, Some(p.collectivite_id)).await?;
    if failed > 0 {
        out.push((
            "/admin/assistance".into(),
            format!("{failed} {}", t("home.todo_mail")),
        ));
    }
    let silent = total(DeviceFilter {
        not_seen_days: Some(30),
        ..DeviceFilter::default()
    })
    .await?;
    if silent > 0 {
        out.push((
            "/devices?not_seen_days=30".into(),
            format!("{silent} {}", t("home.todo_silent")),
        ));
    }
    for c in contracts::list(&s.db, p).await? {
        if c.ends_on >= today && c.ends_on <= today + Duration::days(120) {
            out.push((
                format!("/contracts/{}", c.id),
                t("home.todo_contract")
                    .replace("{title}", &c.title)
                    .replace("{date}", &c.ends_on.format("%d/%m/%Y").to_string()),
            ));
        }
    }
    Ok(out)
}

/// What a head's open loans still ask of the school.
async fn loans_to_settle(
    s: &AppState,
    p: &Principal,
    listed: &[schools::School],
) -> Result<Vec<(String, String)>, PageError> {
    let t = |k| crate::i18n::t(p.lang, k);
    let mut out = Vec::new();
    if p.is_admin() || !p.has(Role::Directeur) {
        return Ok(out);
    }
    for school in listed.iter().filter(|x| p.can_manage_loans(x.id)) {
        let n = pupils::loans::to_settle(&s.db, p, school.id).await?;
        let link = format!("/schools/{}/loans", school.id);
        let suffix = if listed.len() > 1 {
            format!(" — {}", school.name)
        } else {
            String::new()
        };
        if n.unsigned > 0 {
            out.push((
                format!("{link}?status=open&unsigned=true"),
                format!("{} {}{suffix}", n.unsigned, t("home.loans_unsigned")),
            ));
        }
        if n.pupil_left > 0 {
            out.push((
                link,
                format!("{} {}{suffix}", n.pupil_left, t("home.loans_left")),
            ));
        }
    }
    Ok(out)
}

/// Visits: today's for a technician, the week's for a contractor or a head.
async fn visits(
    s: &AppState,
    a: &Auth,
) -> Result<Option<(&'static str, Vec<(String, VisitView)>)>, PageError> {
    let p = &a.p;
    let today = at_midnight(super::today());
    let (key, f, to) = if p.has(Role::Technicien) {
        (
            "home.visits_today",
            InterventionFilter {
                who: Some("me".into()),
                ..InterventionFilter::default()
            },
            today + Duration::days(1),
        )
    } else if p.has(Role::Prestataire) {
        (
            "home.visits_week",
            InterventionFilter {
                who: Some("me".into()),
                ..InterventionFilter::default()
            },
            today + Duration::days(7),
        )
    } else if p.has(Role::Directeur) && !p.is_admin() {
        (
            "home.visits_school",
            InterventionFilter::default(),
            today + Duration::days(7),
        )
    } else {
        return Ok(None);
    };
    let list = interventions::list(&s.db, p, &f, today, to).await?;
    let lang = p.lang;
    Ok(Some((
        key,
        list.iter()
            .filter(|v| v.intervention.status == "planifiee")
            .map(|v| {
                let start = preau_domain::paris::local(v.intervention.starts_at);
                let day = format!(
                    "{} {}",
                    super::parts::visits::day_name(chrono::Datelike::weekday(&start), lang),
                    start.format("%d/%m")
                );
                (day, visit_view(a, v))
            })
            .collect(),
    )))
}

pub async fn home(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    let today = super::today();
    let year = years::current(&s.db, p, today).await?;
    let counts = schools::counts(&s.db, p, year.as_ref().map(|y| y.id)).await?;
    let wide = p.has(Role::Administrateur) || p.has(Role::Elu);
    let listed = if wide {
        Vec::new()
    } else {
        schools::directory(&s.db, p).await?
    };
    let uses_tickets = p.can_use_tickets();
    let handler = super::tickets::is_handler(p);
    let head = p.has(Role::Directeur) && !p.is_admin();
    // Fixed tickets the caller is asked to confirm (not the administrator's: the school's).
    let confirm = if uses_tickets && !p.is_admin() {
        let f = TicketFilter {
            status: Some("resolu".into()),
            ..TicketFilter::default()
        };
        let (items, _) = tickets::by_deadline(&s.db, p, &f, None, 20).await?;
        let now = Utc::now();
        items
            .iter()
            .filter(|t| p.can_confirm_ticket(t.school_id, t.reporter_user_id))
            .take(10)
            .map(|t| TicketRow {
                // Fixed: its deadlines are over, and the question is whether it holds.
                late: false,
                at_risk: false,
                ..ticket_row(p.lang, t, now, true, None)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mine = if uses_tickets && !handler && !head {
        let f = TicketFilter {
            mine: Some(true),
            ..open_filter()
        };
        rows(&s, p, &f, 10).await?
    } else {
        Vec::new()
    };
    let school_tickets = if uses_tickets && head && !handler {
        let f = open_filter();
        Some((count(&s, p, &f).await?, rows(&s, p, &f, 8).await?))
    } else {
        None
    };
    let queue = if uses_tickets && handler {
        let f = open_filter();
        Some(Queue {
            open: count(&s, p, &f).await?,
            breached: count(
                &s,
                p,
                &TicketFilter {
                    breached: Some(true),
                    ..open_filter()
                },
            )
            .await?,
            at_risk: count(
                &s,
                p,
                &TicketFilter {
                    at_risk: Some(true),
                    ..open_filter()
                },
            )
            .await?,
            rows: rows(&s, p, &f, 8).await?,
        })
    } else {
        None
    };
    let shows_deadlines = !mine.is_empty() || school_tickets.is_some() || queue.is_some();
    // The school calendars are looked up once, for the notice and the administrator's list.
    let gaps = if shows_deadlines || p.is_admin() {
        preau_core::calendar::gaps(&s.db, p.collectivite_id, today).await?
    } else {
        preau_core::calendar::CalendarGaps::default()
    };
    let notice = if shows_deadlines {
        calendar_words(p, &gaps)
    } else {
        None
    };
    let page = HomePage {
        ctx: Ctx::page(&a, p.lang_title("home.title"), "home").notice(notice),
        name: p.display_name.clone(),
        roles: role_labels(p),
        report: report_links(&s, p, &listed, year.as_ref().map(|y| y.id)).await?,
        confirm,
        mine,
        school_tickets,
        queue,
        visits: visits(&s, &a).await?,
        loans: loans_to_settle(&s, p, &listed).await?,
        todo: if p.is_admin() {
            admin_todo(&s, p, year.as_ref(), &gaps).await?
        } else {
            Vec::new()
        },
        admin: p.is_admin(),
        council: p.can_see_funding(),
        year: year.map(|y| y.label),
        show_figures: wide || listed.len() > 1,
        counts,
        no_perimeter: p.has(Role::Prestataire) && listed.is_empty() && !wide,
        schools: listed,
        needs: needs_todo(&s, p).await?,
        visio: visio_next(&s, p).await?,
        bookings: super::bookings::home(&s, p).await?,
    };
    render(&page)
}
