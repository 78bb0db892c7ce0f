//! `/api/v1/bookable` and `/api/v1/bookings`: the shared kits and rooms a caller reads,
//! their bookings, booking a slot (alone or weekly) and cancelling.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use preau_core::bookings::{self, BookingFilter, BookingInput};
use preau_core::write_tx;
use preau_domain::FieldError;
use preau_domain::booking::Slot;
use serde::{Deserialize, Serialize};

use super::schema::{List, input};
use super::types;
use super::{Answer, Created, body, created};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

#[derive(Deserialize)]
pub(super) struct BookableQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school: Option<i64>,
}

input! {
    /// The resources usable at one school (its own and those shared with it), or all those
    /// the caller reads.
    BookableQueryDoc for BookableQuery {
        school: Option<i64>,
    }
}

pub(super) async fn bookable(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<BookableQuery>, QueryRejection>,
) -> Answer<List<types::Bookable>> {
    let q = super::query(q)?;
    let items = bookings::bookables(&s.db, &p, q.school, false)
        .await?
        .iter()
        .map(types::Bookable::from)
        .collect();
    Ok(Json(List::all(items)))
}

#[derive(Deserialize)]
pub(super) struct BookingsQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    bookable: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_bool")]
    mine: Option<bool>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    limit: Option<i64>,
    cursor: Option<String>,
}

input! {
    /// Which bookings: a resource's, a school's, between two days (both included; by
    /// default from today on), the caller's own; `limit` (default 200, at most 1 000) and
    /// the `next` cursor of the previous page. Cancelled bookings are left out.
    BookingsQueryDoc for BookingsQuery {
        bookable: Option<i64>,
        school: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        mine: Option<bool>,
        limit: Option<i64>,
        cursor: Option<String>,
    }
}

pub(super) async fn list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<BookingsQuery>, QueryRejection>,
) -> Answer<List<types::Booking>> {
    let q = super::query(q)?;
    let offset = super::offset(q.cursor.as_deref())?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=bookings::MAX_BOOKINGS).contains(&limit) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "limit",
            "out_of_range",
        )]));
    }
    let day = |d: NaiveDate| preau_domain::paris::at(d, 0, 0);
    let f = BookingFilter {
        bookable: q.bookable,
        school: q.school,
        from: Some(q.from.map(day).unwrap_or_else(Utc::now)),
        to: q.to.map(|d| day(d + chrono::Duration::days(1))),
        mine: q.mine.unwrap_or(false),
        with_cancelled: false,
    };
    let mut list = bookings::bookings(&s.db, &p, &f, offset, limit).await?;
    let more = preau_core::db::more_than(&mut list, limit);
    Ok(Json(List {
        items: list.iter().map(types::Booking::from).collect(),
        next: more.then(|| (offset + limit).to_string()),
    }))
}

/// A booking as the API takes it.
#[derive(Deserialize, Serialize, Default)]
pub(super) struct BookingBody {
    bookable_id: i64,
    #[serde(default)]
    school_id: Option<i64>,
    day: String,
    slot: String,
    #[serde(default)]
    class_id: Option<i64>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    repeat_until: Option<String>,
}

input! {
    /// A slot of a class day (`slot`: `HH:MM-HH:MM`, one of the school's slots that day)
    /// for the resource's home school or `school_id` (a school it is shared with),
    /// optionally for a class, repeated weekly until `repeat_until` (class days only).
    /// A clash answers 409 naming who holds the slot; nothing is booked then.
    BookingDoc for BookingBody {
        bookable_id: i64,
        school_id: Option<i64>,
        day: NaiveDate,
        slot: String,
        class_id: Option<i64>,
        note: Option<String>,
        repeat_until: Option<NaiveDate>,
    }
}

/// Books a slot (and its repeats); answers the bookings made.
pub(super) async fn create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<BookingBody>, JsonRejection>,
) -> Created<List<types::Booking>> {
    let b = body(b)?;
    let mut errors = Vec::new();
    let day = preau_domain::device::date("day", Some(&b.day))
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if day.is_none() && errors.is_empty() {
        errors.push(FieldError::new("day", "required"));
    }
    let slot = Slot::parse("slot", &b.slot)
        .map_err(|e| errors.push(e))
        .ok();
    let repeat_until = preau_domain::device::date("repeat_until", b.repeat_until.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let (Some(day), Some(slot), true) = (day, slot, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let input = BookingInput {
        bookable_id: b.bookable_id,
        school_id: b.school_id,
        day,
        slot,
        class_id: b.class_id,
        note: b.note.clone().unwrap_or_default(),
        repeat_until,
    };
    let ids = write_tx!(s.db, tx => bookings::book(tx, &p, &input, Utc::now()).await?)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(types::Booking::from(
            &bookings::booking(&s.db, &p, id).await?,
        ));
    }
    created(List::all(items))
}

#[derive(Deserialize)]
pub(super) struct CancelQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_bool")]
    following: Option<bool>,
}

input! {
    /// `following=true`: also the next bookings of its weekly repeat.
    CancelQueryDoc for CancelQuery {
        following: Option<bool>,
    }
}

/// Cancels a booking (and with `following=true` the rest of its repeat).
pub(super) async fn cancel(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    q: Result<Query<CancelQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let q = super::query(q)?;
    let following = q.following.unwrap_or(false);
    write_tx!(s.db, tx => bookings::cancel(tx, &p, id, following, Utc::now()).await?)?;
    Ok(StatusCode::NO_CONTENT)
}
