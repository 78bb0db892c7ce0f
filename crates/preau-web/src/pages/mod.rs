//! Server-rendered pages. Every core flow works without JavaScript; `preau.js` only adds
//! confirmations and focus. Forms go through `CsrfForm`, which refuses a missing token.

mod admin;
mod assistance;
mod bookings;
mod connectivity;
mod contracts;
mod council;
mod coverage;
mod dashboard;
mod device_import;
pub mod devices;
mod form;
mod funding;
mod home;
mod import;
mod labels;
mod needs;
mod notifications;
mod org;
mod page;
mod parts;
mod planning;
pub mod pupils;
mod search;
mod signin;
mod tickets;
pub(crate) mod upload;
mod user;
mod visio;

pub(crate) use form::*;
pub(crate) use page::*;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/search", get(search::search))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::read_all))
        .route("/notifications/{id}", get(notifications::open))
        .route("/login", get(user::login_page).post(user::login))
        .route("/logout", post(user::logout))
        .route(
            "/login/email",
            get(signin::email_form).post(signin::email_send),
        )
        .route(
            "/login/link/{token}",
            get(signin::link_page).post(signin::link_use),
        )
        .route("/login/sso/callback", get(signin::sso_callback))
        .route("/login/sso/{id}", get(signin::sso_start))
        .route("/login/cas/{state}", get(signin::cas_return))
        .route(
            "/admin/sign-in",
            get(signin::admin_page).post(signin::settings_save),
        )
        .route("/admin/sign-in/providers", post(signin::provider_create))
        .route("/admin/sign-in/providers/new", get(signin::provider_new))
        .route(
            "/admin/sign-in/providers/{id}",
            get(signin::provider_edit).post(signin::provider_update),
        )
        .route("/admin/access", get(signin::access_page))
        .route("/admin/access/{id}/grant", post(signin::grant))
        .route("/admin/access/{id}/refuse", post(signin::refuse))
        .route(
            "/schools/{id}/invite",
            get(signin::invite_form).post(signin::invite),
        )
        .route("/account", get(user::account))
        .route("/account/password", post(user::change_password))
        .route("/account/lang", post(user::change_lang))
        .route("/account/tokens", post(user::create_token))
        .route("/account/tokens/{id}/revoke", post(user::revoke_token))
        .route("/schools", get(org::schools).post(org::school_create))
        .route("/schools/new", get(org::school_new))
        .route(
            "/schools/import",
            get(import::form)
                .post(import::preview)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/schools/import/apply", post(import::apply))
        .route("/devices", get(devices::list).post(devices::create))
        .route("/devices/new", get(devices::new))
        .route(
            "/devices/import",
            get(device_import::form)
                .post(device_import::preview)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/devices/import/apply", post(device_import::apply))
        .route("/devices/place", post(devices::place))
        .route("/devices/bulk", post(devices::bulk))
        .route("/devices/duplicates", get(devices::duplicates))
        .route("/devices/merge", post(devices::merge))
        .route("/devices/export/{format}", get(devices::export))
        .route("/devices/{id}", get(devices::show_device))
        .route(
            "/devices/{id}/edit",
            get(devices::edit).post(devices::update),
        )
        .route("/labels", get(labels::labels))
        .route(
            "/tickets",
            get(tickets::list)
                .post(tickets::create)
                .layer(axum::extract::DefaultBodyLimit::max(tickets::MAX_REPORT)),
        )
        .route("/tickets/new", get(tickets::new_form))
        .route("/tickets/{id}", get(tickets::show))
        .route("/tickets/{id}/take", post(tickets::take))
        .route("/tickets/{id}/status", post(tickets::status))
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/priority", post(tickets::priority))
        .route("/tickets/{id}/comments", post(tickets::comment))
        .route("/tickets/{id}/confirm", post(tickets::confirm))
        .route("/tickets/{id}/reopen", post(tickets::reopen))
        .route(
            "/tickets/{id}/attachments",
            post(tickets::attach).layer(axum::extract::DefaultBodyLimit::max(tickets::MAX_REPORT)),
        )
        .route("/tickets/{id}/attachments/{aid}", get(tickets::attachment))
        .route("/q/{id}", get(tickets::qr))
        .route("/tickets/{id}/plan", post(tickets::plan))
        .route("/interventions/{id}/status", post(planning::set_status))
        .route("/planning", get(planning::week))
        .route("/planning/feed", post(planning::create_feed))
        .route("/ical/{file}", get(planning::feed))
        .route("/contracts", get(contracts::list).post(contracts::create))
        .route("/contracts/new", get(contracts::new))
        .route("/contractors", post(contracts::contractor_create))
        .route("/contracts/{id}", get(contracts::show))
        .route(
            "/contracts/{id}/edit",
            get(contracts::edit).post(contracts::update),
        )
        .route("/contracts/{id}/lots/new", get(contracts::lot_new))
        .route("/contracts/{id}/lots", post(contracts::lot_create))
        .route(
            "/lots/{id}/grid",
            get(contracts::grid_form).post(contracts::grid_save),
        )
        .route(
            "/lots/{id}/perimeter",
            get(contracts::perimeter_form).post(contracts::perimeter_save),
        )
        .route("/reports/sla", get(contracts::report))
        .route("/reports/sla/{format}", get(contracts::report_export))
        .route("/schools/{id}/networks", post(org::school_networks))
        .route("/schools/{id}/access", post(org::school_access))
        .route("/coverage", get(coverage::overview))
        .route("/coverage/{id}", get(coverage::school))
        .route("/coverage/plan", get(coverage::plan))
        .route("/coverage/plan.xlsx", get(coverage::plan))
        .route("/coverage/plan.csv", get(coverage::plan))
        .route("/coverage/{id}/declare", post(coverage::declare))
        .route("/renewal", get(coverage::renewal))
        .route("/renewal.xlsx", get(coverage::renewal))
        .route("/renewal.csv", get(coverage::renewal))
        .route("/renewal/settings", post(coverage::renewal_settings))
        .route("/reservations", get(bookings::week).post(bookings::create))
        .route("/reservations/new", get(bookings::new))
        .route("/reservations/mine", get(bookings::mine))
        .route("/reservations/{id}", get(bookings::show))
        .route("/reservations/{id}/cancel", post(bookings::cancel))
        .route(
            "/reservations/ressources",
            get(bookings::manage).post(bookings::bookable_create),
        )
        .route(
            "/reservations/ressources/{id}",
            get(bookings::edit).post(bookings::update),
        )
        .route("/reservations/slots", post(bookings::slots))
        .route("/calendrier/{file}", get(bookings::feed))
        .route("/visio", get(visio::list))
        .route(
            "/visio/sessions/{id}",
            get(visio::session).post(visio::session_post),
        )
        .route("/visio/closed-days", post(visio::closed_day))
        .route(
            "/visio/programmes",
            get(visio::programmes).post(visio::programme_create),
        )
        .route("/visio/series", post(visio::series_create))
        .route("/visio/statement", get(visio::statement))
        .route("/visio/statement/{format}", get(visio::statement_export))
        .route("/connectivity", get(connectivity::overview))
        .route("/connectivity/{id}", get(connectivity::school))
        .route("/connectivity/{id}/links", post(connectivity::add_link))
        .route(
            "/connectivity/{school}/links/{id}/delete",
            post(connectivity::delete_link),
        )
        .route(
            "/connectivity/{id}/speed-tests",
            post(connectivity::speed_test),
        )
        .route("/connectivity/{id}/probe", post(connectivity::set_probe))
        .route("/connectivity/{id}/wifi", get(connectivity::wifi))
        .route(
            "/connectivity/{school}/wifi/{device}",
            post(connectivity::wifi_save),
        )
        .route("/council", get(council::report))
        .route("/council.xlsx", get(council::workbook))
        .route("/quality", get(council::quality_page))
        .route("/funding", get(funding::page).post(funding::create))
        .route("/funding/new", get(funding::new))
        .route("/funding/contracts", post(funding::contracts))
        .route("/funding/dossiers.xlsx", get(funding::export))
        .route("/funding/dossiers.csv", get(funding::export))
        .route("/funding/spending.xlsx", get(funding::export))
        .route("/funding/spending.csv", get(funding::export))
        .route("/funding/{id}", get(funding::dossier))
        .route(
            "/funding/{id}/edit",
            get(funding::edit).post(funding::update),
        )
        .route("/needs", get(needs::list).post(needs::create))
        .route("/needs/new", get(needs::new))
        .route("/needs/{id}", get(needs::campaign))
        .route("/needs/{id}/edit", get(needs::edit).post(needs::update))
        .route("/needs/{id}/requests", post(needs::add))
        .route("/needs/{id}/requests.xlsx", get(needs::export))
        .route("/needs/{id}/requests.csv", get(needs::export))
        .route("/needs/requests/{id}/withdraw", post(needs::withdraw))
        .route("/needs/requests/{id}/opinion", post(needs::opinion))
        .route("/needs/requests/{id}/decide", post(needs::decide))
        .route("/admin/referentiel", get(coverage::referentiel_page))
        .route("/admin/referentiel/prices", post(coverage::prices))
        .route(
            "/admin/referentiel/edit",
            get(coverage::referentiel_edit).post(coverage::referentiel_save),
        )
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard.csv", get(dashboard::dashboard_csv))
        .route("/admin", get(admin::index))
        .route(
            "/admin/agents",
            get(admin::agents_show).post(admin::agents_set),
        )
        .route(
            "/admin/categories",
            get(admin::categories_show).post(admin::category_create),
        )
        .route(
            "/admin/collectivite/edit",
            get(admin::collectivite_edit).post(admin::collectivite_update),
        )
        .route(
            "/admin/users/{id}/edit",
            get(admin::user_edit).post(admin::user_update),
        )
        .route("/schools/export.csv", get(org::schools_export))
        .route("/schools/{id}", get(org::school))
        .route(
            "/schools/{id}/edit",
            get(org::school_edit).post(org::school_update),
        )
        .route(
            "/schools/{id}/rooms/new",
            get(org::room_new).post(org::room_create),
        )
        .route(
            "/schools/{id}/classes/new",
            get(org::class_new).post(org::class_create),
        )
        .route("/rooms/{id}", get(org::room))
        .route(
            "/rooms/{id}/edit",
            get(org::room_edit).post(org::room_update),
        )
        .route("/rooms/{id}/delete", post(org::room_delete))
        .route("/classes/{id}", get(org::class))
        .route(
            "/classes/{id}/edit",
            get(org::class_edit).post(org::class_update),
        )
        .route("/classes/{id}/delete", post(org::class_delete))
        .route("/school-years", get(admin::years).post(admin::year_create))
        .route("/school-years/new", get(admin::year_new))
        .route("/admin/users", get(admin::users).post(admin::user_create))
        .route("/admin/users/new", get(admin::user_new))
        .route("/admin/users/{id}", get(admin::user))
        .route("/admin/users/{id}/roles", post(admin::role_add))
        .route(
            "/admin/users/{id}/roles/{rid}/delete",
            post(admin::role_remove),
        )
        .route("/admin/users/{id}/password", post(admin::password_reset))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/pupils",
            get(pupils::settings).post(pupils::settings_save),
        )
        .route("/admin/pupils/rollover", post(pupils::rollover_save))
        .route("/admin/registre", get(pupils::registre))
        .route(
            "/schools/{id}/onde",
            get(pupils::onde_form)
                .post(pupils::onde_preview)
                .layer(axum::extract::DefaultBodyLimit::max(pupils::MAX_UPLOAD)),
        )
        .route("/schools/{id}/onde/apply", post(pupils::onde_apply))
        .route(
            "/schools/{id}/loans",
            get(pupils::school_loans).post(pupils::school_lend),
        )
        .route(
            "/schools/{id}/loans/{format}",
            get(pupils::school_loans_export),
        )
        .route(
            "/classes/{id}/tablets",
            get(pupils::bulk).post(pupils::bulk_scan),
        )
        .route("/classes/{id}/tablets/pair", post(pupils::bulk_pair))
        .route("/classes/{id}/tablets/undo", post(pupils::bulk_undo))
        .route("/classes/{id}/pupils/{format}", get(pupils::class_export))
        .route("/loans/{id}", get(pupils::loan))
        .route("/loans/{id}/return", post(pupils::loan_return))
        .route(
            "/loans/{id}/sign",
            post(pupils::loan_sign).layer(axum::extract::DefaultBodyLimit::max(pupils::MAX_UPLOAD)),
        )
        .route("/loans/{id}/document", get(pupils::loan_document))
        .route("/pupils/{id}", get(pupils::pupil))
        .route("/pupils/{id}/export", get(pupils::pupil_export))
        .route("/pupils/{id}/erase", post(pupils::pupil_erase))
        .route("/tablets", get(pupils::tablets))
        .route("/tablets/{format}", get(pupils::tablets_export))
        .route("/admin/assistance", get(assistance::show))
        .route("/admin/assistance/settings", post(assistance::settings))
        .route("/admin/routing", post(assistance::add_rule))
        .route("/admin/routing/{id}/delete", post(assistance::delete_rule))
        .route(
            "/admin/calendar",
            post(assistance::import_calendar).layer(axum::extract::DefaultBodyLimit::max(
                assistance::MAX_CALENDAR,
            )),
        )
}
