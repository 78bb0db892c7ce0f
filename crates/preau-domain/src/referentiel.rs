//! The référentiel: what every classroom, school and direction office should have, as
//! data, and the coverage of a school against it.
//!
//! Préau ships the *socle numérique de base* of the écoles (`socle()`); a collectivité
//! copies and edits it (Elancourt: a TNI in every classroom, a tablet per élémentaire
//! pupil). A rule counts the devices in service of some categories at its scope (each
//! classroom, the school, the direction office), as a number or a ratio (per N pupils, per
//! N classes); or asks that every device of some categories be enrolled in the MDM or
//! switchable (Wi-Fi); or that the school declared something (its ENT). Evaluation is
//! pure: the caller gathers a school's facts, `evaluate` gives the verdicts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Lang};
use crate::org::{SchoolKind, code_enum};

code_enum!(
    /// Where a rule is checked.
    Scope {
        Salle = "salle" => ("Chaque salle de classe", "Each classroom"),
        Ecole = "ecole" => ("L'école", "The school"),
        Direction = "direction" => ("Le bureau de direction", "The head teacher's office"),
    }
);

code_enum!(
    /// How much a rule matters: a missing `requis` makes the school non-compliant, a
    /// missing `recommande` only partial.
    Level {
        Requis = "requis" => ("Requis", "Required"),
        Recommande = "recommande" => ("Recommandé", "Recommended"),
    }
);

code_enum!(
    /// What a rule checks: at least `quantity` devices (per scope, or per `per_n` pupils
    /// or classes); every device of the categories enrolled in the MDM; every one able to
    /// switch its Wi-Fi off; or that the school declared it (an ENT, a sharing service…).
    Measure {
        Nombre = "nombre" => ("Nombre d'équipements", "Number of devices"),
        Mdm = "mdm" => ("Tous inscrits au MDM", "All enrolled in the MDM"),
        Debrayable = "debrayable" => ("Tous débrayables", "All switchable"),
        Declaration = "declaration" => ("Déclaré par l'école", "Declared by the school"),
    }
);

code_enum!(
    /// What a count is per.
    Per {
        Unite = "unite" => ("par salle / école", "per room / school"),
        Eleves = "eleves" => ("par N élèves", "per N pupils"),
        Classes = "classes" => ("par N classes", "per N classes"),
    }
);

code_enum!(
    /// Where a school, a classroom or a rule stands (`non_evalue`: no rule applies, a kind
    /// of school the référentiel does not cover).
    Verdict {
        Conforme = "conforme" => ("Conforme", "Compliant"),
        Partiel = "partiel" => ("Partiel", "Partial"),
        NonConforme = "non_conforme" => ("Non conforme", "Not compliant"),
        NonEvalue = "non_evalue" => ("Non évalué", "Not assessed"),
    }
);

/// One rule of a référentiel, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable key (`affichage_collectif`).
    pub key: String,
    pub label: String,
    pub scope: Scope,
    pub level: Level,
    pub measure: Measure,
    /// Device category codes that satisfy the rule (the first is the one a plan buys).
    pub categories: Vec<String>,
    pub quantity: i64,
    pub per: Per,
    /// N of "per N pupils / classes".
    pub per_n: i64,
    /// The kinds of school it applies to; empty: every kind.
    pub school_kinds: Vec<SchoolKind>,
}

impl Rule {
    pub fn applies_to(&self, kind: SchoolKind) -> bool {
        self.school_kinds.is_empty() || self.school_kinds.contains(&kind)
    }

    /// Devices required, given the school's pupils and classes.
    pub fn required(&self, pupils: i64, classes: i64) -> i64 {
        let n = self.per_n.max(1);
        let base = match self.per {
            Per::Unite => return self.quantity,
            Per::Eleves => pupils,
            Per::Classes => classes,
        };
        // Rounded up: 25 pupils at one tablet per 2 pupils need 13.
        self.quantity * ((base + n - 1) / n)
    }
}

/// A rule as a form or the API sends it: codes as text, checked by [`RuleInput::parse`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleInput {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub measure: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub per: Option<String>,
    #[serde(default)]
    pub per_n: Option<i64>,
    #[serde(default)]
    pub school_kinds: Vec<String>,
}

impl From<&Rule> for RuleInput {
    fn from(r: &Rule) -> Self {
        RuleInput {
            key: r.key.clone(),
            label: r.label.clone(),
            scope: r.scope.code().into(),
            level: r.level.code().into(),
            measure: r.measure.code().into(),
            categories: r.categories.clone(),
            quantity: Some(r.quantity),
            per: Some(r.per.code().into()),
            per_n: Some(r.per_n),
            school_kinds: r.school_kinds.iter().map(|k| k.code().into()).collect(),
        }
    }
}

/// A rule's key: lowercase letters, digits and `_`, 2 to 40 characters.
fn valid_key(k: &str) -> bool {
    (2..=40).contains(&k.len())
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a whole référentiel: every wrong field of every rule is reported, named
/// `rules[i].field`; keys are unique; categories must be known (`known_categories`).
pub fn parse_rules(
    inputs: &[RuleInput],
    known_categories: &[String],
) -> Result<Vec<Rule>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut keys = BTreeSet::new();
    if inputs.len() > 100 {
        errors.push(FieldError::too_long("rules", 100));
    }
    for (i, r) in inputs.iter().enumerate() {
        let at = |f: &str| format!("rules[{i}].{f}");
        macro_rules! bad {
            ($f:expr, $code:expr) => {
                errors.push(FieldError::new(at($f), $code))
            };
        }
        let key = r.key.trim().to_string();
        if !valid_key(&key) {
            bad!("key", "invalid");
        } else if !keys.insert(key.clone()) {
            bad!("key", "duplicate");
        }
        let label = r.label.trim().to_string();
        if label.is_empty() {
            bad!("label", "required");
        } else if label.chars().count() > 120 {
            errors.push(FieldError::too_long(at("label"), 120));
        }
        let scope = Scope::parse("", &r.scope).map_err(|_| bad!("scope", "unknown_value"));
        let level = Level::parse("", &r.level).map_err(|_| bad!("level", "unknown_value"));
        let measure = Measure::parse("", &r.measure).map_err(|_| bad!("measure", "unknown_value"));
        let per = Per::parse("", r.per.as_deref().unwrap_or("unite"))
            .map_err(|_| bad!("per", "unknown_value"));
        let quantity = r.quantity.unwrap_or(1);
        if !(0..=10_000).contains(&quantity) {
            bad!("quantity", "out_of_range");
        }
        let per_n = r.per_n.unwrap_or(1);
        if !(1..=1_000).contains(&per_n) {
            bad!("per_n", "out_of_range");
        }
        let needs_categories = !matches!(measure, Ok(Measure::Declaration));
        if needs_categories && r.categories.is_empty() {
            bad!("categories", "required");
        }
        for c in &r.categories {
            if !known_categories.iter().any(|k| k == c) {
                bad!("categories", "unknown_value");
                break;
            }
        }
        let mut kinds = Vec::new();
        for k in &r.school_kinds {
            match SchoolKind::parse("", k) {
                Ok(k) => kinds.push(k),
                Err(_) => {
                    bad!("school_kinds", "unknown_value");
                    break;
                }
            }
        }
        if let (Ok(scope), Ok(level), Ok(measure), Ok(per)) = (scope, level, measure, per) {
            if scope == Scope::Salle && per != Per::Unite {
                errors.push(FieldError::new(at("per"), "unknown_value"));
            }
            rules.push(Rule {
                key,
                label,
                scope,
                level,
                measure,
                categories: r.categories.clone(),
                quantity,
                per,
                per_n,
                school_kinds: kinds,
            });
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

const ECOLES: &[SchoolKind] = &[
    SchoolKind::Maternelle,
    SchoolKind::Elementaire,
    SchoolKind::Primaire,
];

#[allow(clippy::too_many_arguments)]
fn rule(
    key: &str,
    label: &str,
    scope: Scope,
    level: Level,
    measure: Measure,
    categories: &[&str],
    quantity: i64,
    per: Per,
    per_n: i64,
    kinds: &[SchoolKind],
) -> Rule {
    Rule {
        key: key.into(),
        label: label.into(),
        scope,
        level,
        measure,
        categories: categories.iter().map(|c| c.to_string()).collect(),
        quantity,
        per,
        per_n,
        school_kinds: kinds.to_vec(),
    }
}

/// The *socle numérique de base* for the écoles (maternelle, élémentaire, primaire).
pub fn socle() -> Vec<Rule> {
    use Level::*;
    use Measure::*;
    use Scope::*;
    let cycles_2_3 = &[SchoolKind::Elementaire, SchoolKind::Primaire];
    vec![
        rule(
            "affichage_collectif",
            "Affichage collectif (VPI, TNI, ENI, vidéoprojecteur)",
            Salle,
            Requis,
            Nombre,
            &["eni", "tni", "vpi", "videoprojecteur"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "poste_enseignant",
            "Poste de l'enseignant",
            Salle,
            Requis,
            Nombre,
            &["poste_enseignant", "portable"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "acces_internet",
            "Accès à internet dans la salle (borne Wi-Fi)",
            Salle,
            Requis,
            Nombre,
            &["borne_wifi"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "captation",
            "Captation (webcam, visualiseur ou tablette)",
            Salle,
            Requis,
            Nombre,
            &["webcam", "visualiseur", "tablette", "kit_visio"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "micro",
            "Micro",
            Salle,
            Requis,
            Nombre,
            &["micro", "kit_visio"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "haut_parleurs",
            "Haut-parleurs",
            Salle,
            Requis,
            Nombre,
            &["enceintes", "kit_visio", "eni"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "visualiseur",
            "Visualiseur",
            Salle,
            Recommande,
            Nombre,
            &["visualiseur"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "equipement_mobile",
            "Équipement mobile (6 tablettes ou portables par classe)",
            Ecole,
            Requis,
            Nombre,
            &["tablette", "portable"],
            6,
            Per::Classes,
            1,
            cycles_2_3,
        ),
        rule(
            "stockage_recharge",
            "Stockage et recharge (chariot ou valise)",
            Ecole,
            Requis,
            Nombre,
            &["classe_mobile"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "mdm",
            "Tablettes inscrites au MDM",
            Ecole,
            Requis,
            Mdm,
            &["tablette"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "wifi_debrayable",
            "Bornes Wi-Fi débrayables",
            Ecole,
            Requis,
            Debrayable,
            &["borne_wifi"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "partage_travaux",
            "Partage des travaux (ENT ou équivalent)",
            Ecole,
            Requis,
            Declaration,
            &[],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "poste_direction",
            "Poste de direction",
            Direction,
            Requis,
            Nombre,
            &["pc_fixe", "portable"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
        rule(
            "multifonction",
            "Multifonction (impression, numérisation)",
            Direction,
            Requis,
            Nombre,
            &["imprimante"],
            1,
            Per::Unite,
            1,
            ECOLES,
        ),
    ]
}

/// Devices in service of one category at one place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: i64,
    /// Of those, enrolled in the MDM.
    pub enrolled: i64,
    /// Of those, whose Wi-Fi can be switched off.
    pub switchable: i64,
}

/// What is counted at one place, by category code.
pub type Tallies = BTreeMap<String, Tally>;

/// A classroom and what is in it.
#[derive(Debug, Clone, Default)]
pub struct Classroom {
    pub room_id: i64,
    pub name: String,
    pub class_ids: Vec<i64>,
    pub devices: Tallies,
}

/// Everything `evaluate` needs of a school; gathered by the caller.
#[derive(Debug, Clone)]
pub struct SchoolFacts {
    pub school_id: i64,
    pub kind: SchoolKind,
    pub pupils: i64,
    pub classes: i64,
    pub classrooms: Vec<Classroom>,
    /// The direction office's devices (`None`: the school has no such room recorded).
    pub direction: Option<Tallies>,
    /// Every device in service at the school, wherever it is.
    pub school: Tallies,
    /// Keys the school declared (`partage_travaux`).
    pub declared: BTreeSet<String>,
}

/// One rule at one school (classroom rules: summed over the classrooms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    pub key: String,
    pub label: String,
    pub scope: Scope,
    pub level: Level,
    pub verdict: Verdict,
    /// Devices (or declarations) missing to satisfy it.
    pub missing: i64,
    /// The category a plan would buy to close the gap.
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassroomResult {
    pub room_id: i64,
    pub name: String,
    pub class_ids: Vec<i64>,
    pub verdict: Verdict,
    /// Keys of the rules it fails.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub school_id: i64,
    pub verdict: Verdict,
    pub rules: Vec<RuleResult>,
    pub classrooms: Vec<ClassroomResult>,
}

fn sum(t: &Tallies, cats: &[String], f: impl Fn(&Tally) -> i64) -> i64 {
    cats.iter().filter_map(|c| t.get(c)).map(f).sum()
}

/// Devices missing at one place for a rule (0: satisfied).
fn gap(r: &Rule, t: &Tallies, f: &SchoolFacts) -> i64 {
    match r.measure {
        Measure::Nombre => {
            (r.required(f.pupils, f.classes) - sum(t, &r.categories, |x| x.count)).max(0)
        }
        Measure::Mdm => sum(t, &r.categories, |x| x.count - x.enrolled),
        Measure::Debrayable => sum(t, &r.categories, |x| x.count - x.switchable),
        Measure::Declaration => i64::from(!f.declared.contains(&r.key)),
    }
}

fn verdict_of<'a>(failed: impl Iterator<Item = &'a Level>, any: bool) -> Verdict {
    if !any {
        return Verdict::NonEvalue;
    }
    let mut v = Verdict::Conforme;
    for l in failed {
        match l {
            Level::Requis => return Verdict::NonConforme,
            Level::Recommande => v = Verdict::Partiel,
        }
    }
    v
}

/// A school's coverage: each applicable rule, each classroom, the school's verdict
/// (`non_conforme` when a required rule fails anywhere, `partiel` when only recommended
/// ones do).
pub fn evaluate(rules: &[Rule], f: &SchoolFacts) -> Coverage {
    let applicable: Vec<&Rule> = rules.iter().filter(|r| r.applies_to(f.kind)).collect();
    let room_rules: Vec<&Rule> = applicable
        .iter()
        .copied()
        .filter(|r| r.scope == Scope::Salle)
        .collect();
    let classrooms: Vec<ClassroomResult> = f
        .classrooms
        .iter()
        .map(|c| {
            let failing: Vec<&Rule> = room_rules
                .iter()
                .copied()
                .filter(|r| gap(r, &c.devices, f) > 0)
                .collect();
            ClassroomResult {
                room_id: c.room_id,
                name: c.name.clone(),
                class_ids: c.class_ids.clone(),
                verdict: verdict_of(failing.iter().map(|r| &r.level), !room_rules.is_empty()),
                missing: failing.iter().map(|r| r.key.clone()).collect(),
            }
        })
        .collect();
    let empty = Tallies::new();
    let results: Vec<RuleResult> = applicable
        .iter()
        .map(|r| {
            let missing = match r.scope {
                Scope::Salle => f.classrooms.iter().map(|c| gap(r, &c.devices, f)).sum(),
                Scope::Ecole => gap(r, &f.school, f),
                Scope::Direction => gap(r, f.direction.as_ref().unwrap_or(&empty), f),
            };
            RuleResult {
                key: r.key.clone(),
                label: r.label.clone(),
                scope: r.scope,
                level: r.level,
                verdict: if missing == 0 {
                    Verdict::Conforme
                } else if r.level == Level::Requis {
                    Verdict::NonConforme
                } else {
                    Verdict::Partiel
                },
                missing,
                category: match r.measure {
                    Measure::Nombre => r.categories.first().cloned(),
                    _ => None,
                },
            }
        })
        .collect();
    Coverage {
        school_id: f.school_id,
        verdict: verdict_of(
            results.iter().filter(|r| r.missing > 0).map(|r| &r.level),
            !results.is_empty(),
        ),
        rules: results,
        classrooms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(n: i64) -> Tally {
        Tally {
            count: n,
            enrolled: n,
            switchable: n,
        }
    }

    fn room(id: i64, cats: &[(&str, i64)]) -> Classroom {
        Classroom {
            room_id: id,
            name: format!("Salle {id}"),
            class_ids: vec![id * 10],
            devices: cats
                .iter()
                .map(|(c, n)| (c.to_string(), tally(*n)))
                .collect(),
        }
    }

    const FULL_ROOM: &[(&str, i64)] = &[
        ("tni", 1),
        ("poste_enseignant", 1),
        ("borne_wifi", 1),
        ("kit_visio", 1),
        ("visualiseur", 1),
    ];

    fn school(rooms: Vec<Classroom>) -> SchoolFacts {
        let mut all = Tallies::new();
        for r in &rooms {
            for (c, t) in &r.devices {
                let e = all.entry(c.clone()).or_default();
                e.count += t.count;
                e.enrolled += t.enrolled;
                e.switchable += t.switchable;
            }
        }
        all.insert("tablette".into(), tally(12));
        all.insert("classe_mobile".into(), tally(1));
        SchoolFacts {
            school_id: 1,
            kind: SchoolKind::Elementaire,
            pupils: 50,
            classes: rooms.len() as i64,
            classrooms: rooms,
            direction: Some(
                [
                    ("pc_fixe".to_string(), tally(1)),
                    ("imprimante".to_string(), tally(1)),
                ]
                .into_iter()
                .collect(),
            ),
            school: all,
            declared: ["partage_travaux".to_string()].into_iter().collect(),
        }
    }

    #[test]
    fn a_fully_equipped_school_is_compliant() {
        let f = school(vec![room(1, FULL_ROOM), room(2, FULL_ROOM)]);
        let c = evaluate(&socle(), &f);
        assert_eq!(c.verdict, Verdict::Conforme, "{:#?}", c.rules);
        assert!(c.rules.iter().all(|r| r.missing == 0));
        assert!(c.classrooms.iter().all(|r| r.verdict == Verdict::Conforme));
        assert_eq!(c.rules.len(), socle().len());
    }

    #[test]
    fn a_classroom_without_display_makes_the_school_not_compliant() {
        let bare: Vec<(&str, i64)> = FULL_ROOM
            .iter()
            .copied()
            .filter(|(c, _)| *c != "tni")
            .collect();
        let f = school(vec![room(1, FULL_ROOM), room(2, &bare)]);
        let c = evaluate(&socle(), &f);
        assert_eq!(c.verdict, Verdict::NonConforme);
        let display = c
            .rules
            .iter()
            .find(|r| r.key == "affichage_collectif")
            .unwrap();
        assert_eq!(
            (display.missing, display.verdict),
            (1, Verdict::NonConforme)
        );
        assert_eq!(display.category.as_deref(), Some("eni"));
        assert_eq!(c.classrooms[0].verdict, Verdict::Conforme);
        assert_eq!(c.classrooms[1].verdict, Verdict::NonConforme);
        assert_eq!(c.classrooms[1].missing, vec!["affichage_collectif"]);
    }

    #[test]
    fn only_a_recommended_rule_missing_is_partial() {
        let no_visualiser: Vec<(&str, i64)> = FULL_ROOM
            .iter()
            .copied()
            .filter(|(c, _)| *c != "visualiseur")
            .collect();
        let f = school(vec![room(1, &no_visualiser)]);
        let c = evaluate(&socle(), &f);
        assert_eq!(c.verdict, Verdict::Partiel);
        assert_eq!(c.classrooms[0].verdict, Verdict::Partiel);
        assert_eq!(c.classrooms[0].missing, vec!["visualiseur"]);
    }

    #[test]
    fn ratios_mdm_wifi_declarations_and_the_direction() {
        let mut f = school(vec![
            room(1, FULL_ROOM),
            room(2, FULL_ROOM),
            room(3, FULL_ROOM),
        ]);
        // 3 classes need 18 mobile devices; 12 tablets of which 2 not enrolled.
        f.school.insert(
            "tablette".into(),
            Tally {
                count: 12,
                enrolled: 10,
                switchable: 0,
            },
        );
        f.school.get_mut("borne_wifi").unwrap().switchable = 1;
        f.declared.clear();
        f.direction = None;
        let c = evaluate(&socle(), &f);
        let missing: BTreeMap<&str, i64> = c
            .rules
            .iter()
            .map(|r| (r.key.as_str(), r.missing))
            .collect();
        assert_eq!(missing["equipement_mobile"], 6);
        assert_eq!(missing["mdm"], 2);
        assert_eq!(missing["wifi_debrayable"], 2);
        assert_eq!(missing["partage_travaux"], 1);
        assert_eq!(missing["poste_direction"], 1);
        assert_eq!(missing["multifonction"], 1);
        assert_eq!(c.verdict, Verdict::NonConforme);
        // Per N pupils, rounded up.
        let mut r = socle().remove(7);
        r.per = Per::Eleves;
        r.quantity = 1;
        r.per_n = 2;
        assert_eq!(r.required(25, 0), 13);
    }

    #[test]
    fn rules_apply_to_their_kinds_of_school_only() {
        let mut f = school(vec![room(1, &[])]);
        f.kind = SchoolKind::College;
        let c = evaluate(&socle(), &f);
        assert_eq!(c.verdict, Verdict::NonEvalue);
        assert!(c.rules.is_empty());
        f.kind = SchoolKind::Maternelle;
        let c = evaluate(&socle(), &f);
        assert!(!c.rules.iter().any(|r| r.key == "equipement_mobile"));
    }

    #[test]
    fn the_socle_round_trips_through_its_input_and_bad_rules_are_named() {
        let cats: Vec<String> = [
            "eni",
            "tni",
            "vpi",
            "videoprojecteur",
            "poste_enseignant",
            "portable",
            "borne_wifi",
            "webcam",
            "visualiseur",
            "tablette",
            "kit_visio",
            "micro",
            "enceintes",
            "classe_mobile",
            "pc_fixe",
            "imprimante",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let inputs: Vec<RuleInput> = socle().iter().map(RuleInput::from).collect();
        assert_eq!(parse_rules(&inputs, &cats).unwrap(), socle());
        let mut bad = inputs.clone();
        bad[1].key = "affichage_collectif".into();
        bad[2].scope = "couloir".into();
        bad[3].categories = vec!["grille_pain".into()];
        bad[4].label = " ".into();
        bad[5].per_n = Some(0);
        let errs = parse_rules(&bad, &cats).unwrap_err();
        let named: Vec<(String, &str)> = errs.iter().map(|e| (e.field.clone(), e.code)).collect();
        assert!(
            named.contains(&("rules[1].key".into(), "duplicate")),
            "{named:?}"
        );
        assert!(named.contains(&("rules[2].scope".into(), "unknown_value")));
        assert!(named.contains(&("rules[3].categories".into(), "unknown_value")));
        assert!(named.contains(&("rules[4].label".into(), "required")));
        assert!(named.contains(&("rules[5].per_n".into(), "out_of_range")));
    }
}
