//! The error every use case returns; the web layer renders it as JSON or as a page.

use preau_domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The object does not exist, or exists outside the caller's scope: the same answer
    /// for both, so that ids cannot be probed.
    #[error("not found")]
    NotFound,
    /// The caller may see the object but not do this to it.
    #[error("forbidden")]
    Forbidden,
    /// One or more fields are invalid; nothing was written.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The write conflicts with what is stored (duplicate UAI, stale version…).
    #[error("conflict: {0}")]
    Conflict(FieldError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Turns a unique-constraint violation into a conflict on `field`; other errors pass.
pub fn unique(field: &'static str, code: &'static str) -> impl Fn(sqlx::Error) -> AppError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            AppError::Conflict(FieldError::new(field, code))
        }
        _ => AppError::Db(e),
    }
}

/// For an `UPDATE … WHERE id = $ AND version = $`: one row changed, or the object was
/// changed by someone else since it was read (a conflict on `version`).
pub fn expect_one_row(rows_affected: u64) -> Result<(), AppError> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )))
    }
}

/// Collects field errors from several parses, so a form reports all its mistakes at once.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn check<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// `Err` with every collected error, or `Ok` when there was none.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}
