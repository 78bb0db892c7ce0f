//! The aggregate dashboard: figures per school for those who steer the schools (élus,
//! administrators, technicians, ERUN/IEN). Only counts, never a name.

use preau_domain::Principal;
use serde::Serialize;

use crate::db::{Db, Param, Sql};
use crate::error::{AppError, AppResult};
use crate::schools::push_scope;
use crate::{bind_params, with_db};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SchoolFigures {
    pub school_id: i64,
    pub name: String,
    pub uai: String,
    pub kind: String,
    pub rooms: i64,
    pub classrooms: i64,
    pub classes: i64,
    pub pupils: i64,
}

impl SchoolFigures {
    /// Pupils per class, to one decimal, as text ("—" without classes).
    pub fn class_size(&self) -> String {
        if self.classes == 0 {
            "—".into()
        } else {
            let tenths = (self.pupils * 10 + self.classes / 2) / self.classes;
            format!("{},{}", tenths / 10, tenths % 10)
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub schools: i64,
    pub rooms: i64,
    pub classrooms: i64,
    pub classes: i64,
    pub pupils: i64,
}

/// One line per open school the caller may read, for `school_year_id` (classes and head
/// counts of that year), sorted by name; with the totals.
pub async fn per_school(
    db: &Db,
    p: &Principal,
    school_year_id: Option<i64>,
) -> AppResult<(Vec<SchoolFigures>, Totals)> {
    if !p.can_see_dashboard() {
        return Err(AppError::Forbidden);
    }
    let mut q = Sql::new(
        "SELECT s.id AS school_id, s.name, s.uai, s.kind, \
         (SELECT COUNT(*) FROM rooms r WHERE r.school_id = s.id) AS rooms, \
         (SELECT COUNT(*) FROM rooms r WHERE r.school_id = s.id AND r.kind = 'classe') AS classrooms, \
         (SELECT COUNT(*) FROM classes c WHERE c.school_id = s.id AND c.school_year_id = ",
    );
    let year = school_year_id.unwrap_or(-1);
    q.bind(Param::I64(year));
    q.push(") AS classes, (SELECT CAST(COALESCE(SUM(c.head_count), 0) AS BIGINT) FROM classes c WHERE c.school_id = s.id AND c.school_year_id = ");
    q.bind(Param::I64(year));
    q.push(") AS pupils FROM schools s WHERE s.status = 'active' AND s.collectivite_id = ");
    q.bind(Param::I64(p.collectivite_id));
    push_scope(&mut q, "s.id", &p.readable_schools());
    q.push(" ORDER BY s.name, s.id");
    let rows: Vec<SchoolFigures> = with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, SchoolFigures>(sqlx::AssertSqlSafe(q.text.clone())), &q.params)
            .fetch_all(pool)
            .await?
    });
    let totals = rows.iter().fold(Totals::default(), |mut t, r| {
        t.schools += 1;
        t.rooms += r.rooms;
        t.classrooms += r.classrooms;
        t.classes += r.classes;
        t.pupils += r.pupils;
        t
    });
    Ok((rows, totals))
}
