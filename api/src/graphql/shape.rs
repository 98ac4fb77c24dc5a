//! The shape of a GraphQL document, measured before async-graphql parses
//! it for validation, validates or executes it, in time linear in its size.
//!
//! async-graphql's own checks (recursion depth, directives, validation,
//! complexity) expand every fragment spread where it occurs, so a document of
//! a few hundred bytes whose fragments each spread the next twice costs 2^n
//! steps. Here every fragment is measured once and its figures reused
//! (memoised; cycles are refused), so the work is proportional to the
//! document, and a document whose expansion is too large is refused before
//! anything else looks at it.
//!
//! Measured, each against its limit in [`Limits`]:
//! - nesting of the raw text (`{`, `[`, `(`), before the parser recurses;
//! - selections after expanding every spread, over the whole document;
//! - nesting (fields with selections, spreads, inline fragments) and field
//!   depth;
//! - aliases after expansion;
//! - directives at every location (operations, variable definitions,
//!   fields, spreads, inline fragments, fragment definitions);
//! - cost, an upper bound on the number of fields in the answer: every
//!   field costs 1, plus its children's cost multiplied by the field's page
//!   size (`first`/`last`, the default page size when absent, at most the
//!   largest page) when it has one, or by [`UNSIZED_LIST_ITEMS`] when it
//!   returns a list without a size argument. Variables are resolved.
//!
//! At most one sensitive root field (login and the like) per operation is
//! also checked here, because it needs the same expansion.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
    ServiceDocument, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Positioned, Value, Variables};

/// Deepest field nesting accepted (the standard introspection query needs 14).
pub const MAX_DEPTH: u32 = 16;
/// Deepest nesting of selection sets, spreads and inline fragments, and of
/// brackets in the raw text (twice this).
pub const MAX_NESTING: u32 = 64;
/// Most field selections in a document once every fragment is expanded.
pub const MAX_SELECTIONS: u64 = 2_000;
/// Most aliases in a document once every fragment is expanded.
pub const MAX_ALIASES: u64 = 30;
/// Most directives in a document, counted at every location.
pub const MAX_DIRECTIVES: u64 = 50;
/// Highest cost accepted: the most fields an answer to an accepted operation
/// can hold, counting each list without a size argument as
/// [`UNSIZED_LIST_ITEMS`] items.
pub const MAX_COST: u64 = 25_000;
/// What one list without a size argument counts as (memberships, tiers,
/// currencies of a revenue total, survey questions…).
pub const UNSIZED_LIST_ITEMS: u64 = 10;
/// Page size when a connection is given neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: u64 = domain::pagination::DEFAULT_PAGE_SIZE;
/// Largest page a size argument can ask for (larger ones are refused by the
/// resolver, so they count as this).
pub const MAX_PAGE_SIZE: u64 = domain::pagination::MAX_PAGE_SIZE;

/// Root fields of which a document may contain at most one.
pub const SENSITIVE_ROOT_FIELDS: &[&str] = &[
    "login",
    "refreshSession",
    "submitSurveyResponse",
    "redeemReward",
];

/// The limits a document is held to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub depth: u32,
    pub nesting: u32,
    pub selections: u64,
    pub aliases: u64,
    pub directives: u64,
    pub cost: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            depth: MAX_DEPTH,
            nesting: MAX_NESTING,
            selections: MAX_SELECTIONS,
            aliases: MAX_ALIASES,
            directives: MAX_DIRECTIVES,
            cost: MAX_COST,
        }
    }
}

/// Why a document is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over a limit: `OPERATION_TOO_COMPLEX`.
    TooComplex(String),
    /// Not a valid request: `BAD_USER_INPUT`.
    Invalid(String),
}

/// A document's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    pub selections: u64,
    pub aliases: u64,
    pub directives: u64,
    pub depth: u32,
    pub nesting: u32,
    /// The cost of the operation that will run (0 when none can be chosen).
    pub cost: u64,
}

/// What the cost walk needs to know about one field of the schema.
#[derive(Clone, Debug)]
struct FieldInfo {
    /// The named type the field returns, lists and non-null stripped.
    ty: String,
    list: bool,
    /// `Some(default)` when the field takes `first` or `last`.
    page: Option<Option<u64>>,
    /// Whether each level of the type is nullable: the field, then its list
    /// items, their items, … (`[Customer!]!` → `[false, false]`).
    nullable: Vec<bool>,
}

/// The schema's object and interface fields, read from its SDL once.
#[derive(Clone, Debug, Default)]
pub struct TypeTable {
    types: HashMap<String, HashMap<String, FieldInfo>>,
}

fn named(ty: &Type) -> (String, bool) {
    match &ty.base {
        BaseType::Named(name) => (name.to_string(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

fn nullable_levels(ty: &Type) -> Vec<bool> {
    let mut levels = vec![ty.nullable];
    if let BaseType::List(inner) = &ty.base {
        levels.extend(nullable_levels(inner));
    }
    levels
}

fn as_size(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => Some(n.as_i64().map_or(MAX_PAGE_SIZE, |n| n.max(0) as u64)),
        _ => None,
    }
}

impl TypeTable {
    /// Reads the fields of every object and interface type in `sdl`.
    ///
    /// # Errors
    /// When `sdl` is not a schema document.
    pub fn from_sdl(sdl: &str) -> anyhow::Result<Self> {
        let doc: ServiceDocument = async_graphql::parser::parse_schema(sdl)?;
        let mut types = HashMap::new();
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let fields = match &ty.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                _ => continue,
            };
            let mut table = HashMap::new();
            for field in fields {
                let (name, list) = named(&field.node.ty.node);
                let mut page = None;
                for arg in &field.node.arguments {
                    if matches!(arg.node.name.node.as_str(), "first" | "last") {
                        let default = arg
                            .node
                            .default_value
                            .as_ref()
                            .and_then(|v| as_size(&v.node));
                        page = Some(match page {
                            Some(Some(d)) => Some(d),
                            _ => default,
                        });
                    }
                }
                table.insert(
                    field.node.name.node.to_string(),
                    FieldInfo {
                        ty: name,
                        list,
                        page,
                        nullable: nullable_levels(&field.node.ty.node),
                    },
                );
            }
            types.insert(ty.node.name.node.to_string(), table);
        }
        Ok(Self { types })
    }

    fn field(&self, parent: Option<&str>, name: &str) -> Option<&FieldInfo> {
        self.types.get(parent?)?.get(name)
    }

    /// The named type field `name` of `parent` returns, and whether each
    /// level of its type is nullable (see [`FieldInfo`]).
    pub fn output(&self, parent: &str, name: &str) -> Option<(&str, &[bool])> {
        let field = self.field(Some(parent), name)?;
        Some((&field.ty, &field.nullable))
    }
}

/// The deepest bracket nesting in `query`, outside strings and comments,
/// stopping as soon as it passes `max` (the parser recurses once per level,
/// so an unbounded nesting would exhaust the stack before it refuses).
pub fn text_nesting_exceeds(query: &str, max: u32) -> bool {
    let bytes = query.as_bytes();
    let mut depth: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// Figures of one selection set, fragments expanded.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    selections: u64,
    aliases: u64,
    depth: u32,
    nesting: u32,
    sensitive: u64,
}

enum Memo<T> {
    Visiting,
    Done(T),
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    limits: Limits,
    stats: HashMap<&'a Name, Memo<Stats>>,
}

impl<'a> Walker<'a> {
    fn too_deep(&self) -> Refusal {
        Refusal::TooComplex(format!(
            "The document nests selections, fragments and spreads more than {} levels deep.",
            self.limits.nesting
        ))
    }

    fn set(&mut self, set: &'a Positioned<SelectionSet>, level: u32) -> Result<Stats, Refusal> {
        if level > self.limits.nesting {
            return Err(self.too_deep());
        }
        let mut out = Stats::default();
        for item in &set.node.items {
            let (inner, nests) = match &item.node {
                Selection::Field(field) => {
                    let has_children = !field.node.selection_set.node.items.is_empty();
                    let child = if has_children {
                        self.set(&field.node.selection_set, level + 1)?
                    } else {
                        Stats::default()
                    };
                    out.selections = out.selections.saturating_add(1);
                    if field.node.alias.is_some() {
                        out.aliases = out.aliases.saturating_add(1);
                    }
                    if SENSITIVE_ROOT_FIELDS.contains(&field.node.name.node.as_str()) {
                        out.sensitive = out.sensitive.saturating_add(1);
                    }
                    out.depth = out.depth.max(child.depth + 1);
                    // Only the root level's sensitive fields count.
                    let child = Stats {
                        sensitive: 0,
                        depth: 0,
                        ..child
                    };
                    (child, has_children)
                }
                Selection::InlineFragment(fragment) => {
                    let child = self.set(&fragment.node.selection_set, level + 1)?;
                    out.depth = out.depth.max(child.depth);
                    (child, true)
                }
                Selection::FragmentSpread(spread) => {
                    let child = self.fragment(&spread.node.fragment_name.node, level + 1)?;
                    out.depth = out.depth.max(child.depth);
                    (child, true)
                }
            };
            out.selections = out.selections.saturating_add(inner.selections);
            out.aliases = out.aliases.saturating_add(inner.aliases);
            out.sensitive = out.sensitive.saturating_add(inner.sensitive);
            out.nesting = out.nesting.max(inner.nesting + u32::from(nests));
        }
        Ok(out)
    }

    fn fragment(&mut self, name: &'a Name, level: u32) -> Result<Stats, Refusal> {
        match self.stats.get(name) {
            Some(Memo::Done(stats)) => {
                if level.saturating_add(stats.nesting) > self.limits.nesting {
                    return Err(self.too_deep());
                }
                return Ok(*stats);
            }
            Some(Memo::Visiting) => {
                return Err(Refusal::Invalid(format!(
                    "Fragment \"{name}\" spreads itself (directly or through other fragments)."
                )))
            }
            None => {}
        }
        // An unknown fragment is reported by validation.
        let Some(definition) = self.doc.fragments.get(name) else {
            return Ok(Stats::default());
        };
        self.stats.insert(name, Memo::Visiting);
        let stats = self.set(&definition.node.selection_set, level)?;
        self.stats.insert(name, Memo::Done(stats));
        Ok(stats)
    }
}

fn count_directives(doc: &ExecutableDocument) -> u64 {
    fn in_set(set: &SelectionSet) -> u64 {
        let mut n: u64 = 0;
        for item in &set.items {
            n = n.saturating_add(item.node.directives().len() as u64);
            n = n.saturating_add(match &item.node {
                Selection::Field(field) => in_set(&field.node.selection_set.node),
                Selection::InlineFragment(inline) => in_set(&inline.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            });
        }
        n
    }
    let mut n: u64 = 0;
    for (_, op) in doc.operations.iter() {
        n = n.saturating_add(op.node.directives.len() as u64);
        for variable in &op.node.variable_definitions {
            n = n.saturating_add(variable.node.directives.len() as u64);
        }
        n = n.saturating_add(in_set(&op.node.selection_set.node));
    }
    for fragment in doc.fragments.values() {
        n = n.saturating_add(fragment.node.directives.len() as u64);
        n = n.saturating_add(in_set(&fragment.node.selection_set.node));
    }
    n
}

/// The cost walk of one operation, each fragment's cost computed once.
struct Coster<'a> {
    doc: &'a ExecutableDocument,
    types: &'a TypeTable,
    variables: &'a Variables,
    defaults: HashMap<&'a str, &'a Value>,
    memo: HashMap<&'a Name, u64>,
}

impl<'a> Coster<'a> {
    fn argument(&self, field: &'a async_graphql::parser::types::Field, name: &str) -> Option<u64> {
        let (_, value) = field
            .arguments
            .iter()
            .find(|(arg, _)| arg.node.as_str() == name)?;
        let value = value
            .node
            .clone()
            .into_const_with(|var| {
                self.variables
                    .get(&var)
                    .or_else(|| self.defaults.get(var.as_str()).copied())
                    .cloned()
                    .ok_or(())
            })
            .ok()?;
        as_size(&value)
    }

    fn multiplier(
        &self,
        parent: Option<&str>,
        field: &'a async_graphql::parser::types::Field,
        info: &FieldInfo,
    ) -> u64 {
        // A connection's `edges` and `nodes` are paid for by the connection.
        if parent.is_some_and(|p| p.ends_with("Connection")) {
            return 1;
        }
        if let Some(default) = info.page {
            let asked = match (self.argument(field, "first"), self.argument(field, "last")) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            return asked
                .or(default)
                .unwrap_or(DEFAULT_PAGE_SIZE)
                .min(MAX_PAGE_SIZE);
        }
        if info.list {
            UNSIZED_LIST_ITEMS
        } else {
            1
        }
    }

    fn set(&mut self, set: &'a SelectionSet, parent: Option<&str>) -> u64 {
        let mut cost: u64 = 0;
        for item in &set.items {
            let part = match &item.node {
                Selection::Field(field) => {
                    let info = self.types.field(parent, field.node.name.node.as_str());
                    let (child_type, multiplier) = match info {
                        Some(info) => (
                            Some(info.ty.clone()),
                            self.multiplier(parent, &field.node, info),
                        ),
                        // Introspection and unknown fields (refused by
                        // validation) cost 1 per selection.
                        None => (None, 1),
                    };
                    let children = if field.node.selection_set.node.items.is_empty() {
                        0
                    } else {
                        self.set(&field.node.selection_set.node, child_type.as_deref())
                    };
                    multiplier.saturating_mul(children).saturating_add(1)
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(parent);
                    self.set(&inline.node.selection_set.node, on)
                }
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            };
            cost = cost.saturating_add(part);
        }
        cost
    }

    fn fragment(&mut self, name: &'a Name) -> u64 {
        if let Some(cost) = self.memo.get(name) {
            return *cost;
        }
        let Some(definition) = self.doc.fragments.get(name) else {
            return 0;
        };
        // Cycles were refused before; mark it so a missed one ends here.
        self.memo.insert(name, 0);
        let on = definition.node.type_condition.node.on.node.as_str();
        let cost = self.set(&definition.node.selection_set.node, Some(on));
        self.memo.insert(name, cost);
        cost
    }
}

/// Measures `doc` and refuses it when it passes a limit. The cost is that of
/// the operation `operation_name` selects (or the only one).
///
/// # Errors
/// The first limit the document passes, or a fragment cycle.
pub fn check(
    doc: &ExecutableDocument,
    types: &TypeTable,
    variables: &Variables,
    operation_name: Option<&str>,
    limits: Limits,
) -> Result<Measure, Refusal> {
    let too_complex = |what: &str, value: u64, limit: u64| {
        Err(Refusal::TooComplex(format!(
            "The operation is too complex: {what} {value} exceeds the limit of {limit}."
        )))
    };
    let directives = count_directives(doc);
    if directives > limits.directives {
        return too_complex("directives", directives, limits.directives);
    }
    let mut walker = Walker {
        doc,
        limits,
        stats: HashMap::new(),
    };
    let mut measure = Measure {
        directives,
        ..Measure::default()
    };
    for (_, op) in doc.operations.iter() {
        let stats = walker.set(&op.node.selection_set, 1)?;
        if stats.sensitive > 1 {
            return Err(Refusal::Invalid(format!(
                "At most one of {} may appear in one request.",
                SENSITIVE_ROOT_FIELDS.join(", ")
            )));
        }
        measure.selections = measure.selections.saturating_add(stats.selections);
        measure.aliases = measure.aliases.saturating_add(stats.aliases);
        measure.depth = measure.depth.max(stats.depth);
        measure.nesting = measure.nesting.max(stats.nesting);
    }
    // Validation also walks every fragment definition on its own.
    let mut names: Vec<&Name> = doc.fragments.keys().collect();
    names.sort();
    for name in names {
        let stats = walker.fragment(name, 1)?;
        measure.selections = measure.selections.saturating_add(stats.selections);
    }
    if measure.selections > limits.selections {
        return too_complex(
            "field selections (fragments expanded)",
            measure.selections,
            limits.selections,
        );
    }
    if measure.aliases > limits.aliases {
        return too_complex(
            "aliases (fragments expanded)",
            measure.aliases,
            limits.aliases,
        );
    }
    if measure.depth > limits.depth {
        return too_complex(
            "field depth",
            u64::from(measure.depth),
            u64::from(limits.depth),
        );
    }

    let chosen = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        // No operation can run: the executor says so.
        (DocumentOperations::Multiple(_), None) => None,
    };
    if let Some(op) = chosen {
        let root = match op.node.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        let mut coster = Coster {
            doc,
            types,
            variables,
            defaults: op
                .node
                .variable_definitions
                .iter()
                .filter_map(|v| {
                    v.node
                        .default_value
                        .as_ref()
                        .map(|d| (v.node.name.node.as_str(), &d.node))
                })
                .collect(),
            memo: HashMap::new(),
        };
        measure.cost = coster.set(&op.node.selection_set.node, Some(root));
        if measure.cost > limits.cost {
            return Err(Refusal::TooComplex(format!(
                "The operation is too complex: it could return up to {} fields (pages counted at their size, other lists as {UNSIZED_LIST_ITEMS} items), over the limit of {}. Ask for smaller pages or fewer fields.",
                measure.cost, limits.cost
            )));
        }
    }
    Ok(measure)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use async_graphql::parser::parse_query;

    use super::*;

    fn types() -> TypeTable {
        TypeTable::from_sdl(&crate::graphql::schema::sdl()).expect("the schema's SDL")
    }

    fn measure(query: &str, variables: serde_json::Value) -> Result<Measure, Refusal> {
        let doc = parse_query(query).expect("parses");
        check(
            &doc,
            &types(),
            &Variables::from_json(variables),
            None,
            Limits::default(),
        )
    }

    /// 25 fragments, each spreading the next twice: 2^25 `__typename`s.
    fn fan_out(levels: usize, leaf: &str) -> String {
        let mut doc = String::from("{ ...F0 }");
        for i in 0..levels {
            doc.push_str(&format!(
                " fragment F{i} on Query {{ ... on Query {{ ...F{n} }} ... on Query {{ ...F{n} }} }}",
                n = i + 1
            ));
        }
        doc.push_str(&format!(" fragment F{levels} on Query {{ {leaf} }}"));
        doc
    }

    #[test]
    fn a_fragment_fan_out_is_refused_in_well_under_a_millisecond() {
        let types = types();
        for (levels, leaf) in [(25, "__typename"), (22, "notAField")] {
            let query = fan_out(levels, leaf);
            assert!(query.len() < 2_048, "under 2 KB: {}", query.len());
            let started = Instant::now();
            let doc = parse_query(&query).expect("parses");
            let refusal = check(&doc, &types, &Variables::default(), None, Limits::default());
            let took = started.elapsed();
            println!(
                "fan-out {levels} ({} bytes): parse + measure {took:?}",
                query.len()
            );
            assert!(
                matches!(&refusal, Err(Refusal::TooComplex(m)) if m.contains("field selections")),
                "{refusal:?}"
            );
            // Expanded, this would be 2^25 steps (tens of seconds); a generous
            // bound for a debug build on a shared machine.
            assert!(took < Duration::from_millis(100), "{took:?}");
        }
    }

    #[test]
    fn every_fragment_is_measured_once_and_cycles_are_refused() {
        // Six levels of doubling: 64 leaves, within the limit, counted exactly.
        let ok = measure(&fan_out(6, "__typename"), serde_json::json!({})).expect("accepted");
        // The operation's 64, and each definition on its own: 64 + 32 + … + 1.
        assert_eq!(ok.selections, 64 + 127);
        let cycle = measure(
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            serde_json::json!({}),
        );
        assert!(matches!(cycle, Err(Refusal::Invalid(_))), "{cycle:?}");
        let self_cycle = measure(
            "query { __typename } fragment A on Query { ... on Query { ...A } }",
            serde_json::json!({}),
        );
        assert!(
            matches!(self_cycle, Err(Refusal::Invalid(_))),
            "{self_cycle:?}"
        );
    }

    #[test]
    fn aliases_count_after_expansion() {
        let aliases = (0..8)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ");
        let twice = format!("{{ ...A ...A }} fragment A on Query {{ {aliases} }}");
        assert_eq!(
            measure(&twice, serde_json::json!({})).expect("16").aliases,
            16
        );
        let four = format!(
            "{{ ...A ...A ... on Query {{ ...A ...A }} }} fragment A on Query {{ {aliases} }}"
        );
        let refused = measure(&four, serde_json::json!({}));
        assert!(
            matches!(&refused, Err(Refusal::TooComplex(m)) if m.contains("aliases")),
            "{refused:?}"
        );
    }

    #[test]
    fn directives_count_at_every_location() {
        let d = "@include(if: true)";
        let each = format!(
            "query Q($v: Int {d}) {d} {{ f: __typename {d} ...F {d} ... on Query {d} {{ __typename }} }} fragment F on Query {d} {{ __typename }}"
        );
        let doc = parse_query(&each).expect("parses");
        assert_eq!(count_directives(&doc), 6);
        for (location, query) in [
            (
                "operation",
                format!("query Q {} {{ __typename }}", d.repeat(51)),
            ),
            (
                "variable definition",
                format!("query Q($v: Int {}) {{ __typename }}", d.repeat(51)),
            ),
            (
                "fragment definition",
                format!(
                    "{{ ...F }} fragment F on Query {} {{ __typename }}",
                    d.repeat(51)
                ),
            ),
            (
                "spread",
                format!(
                    "{{ ...F {} }} fragment F on Query {{ __typename }}",
                    d.repeat(51)
                ),
            ),
            (
                "inline fragment",
                format!("{{ ... on Query {} {{ __typename }} }}", d.repeat(51)),
            ),
            (
                "spread across fields",
                format!("{{ {} }}", format!("__typename {d} ").repeat(51)),
            ),
        ] {
            let refused = measure(&query, serde_json::json!({}));
            assert_eq!(
                refused,
                Err(Refusal::TooComplex(
                    "The operation is too complex: directives 51 exceeds the limit of 50."
                        .to_owned()
                )),
                "{location}"
            );
        }
    }

    #[test]
    fn depth_and_nesting_are_bounded() {
        let deep = format!(
            "{{ {}__typename{} }}",
            "customers { nodes { ".repeat(8),
            " } }".repeat(8)
        );
        let refused = measure(&deep, serde_json::json!({}));
        assert!(
            matches!(&refused, Err(Refusal::TooComplex(m)) if m.contains("field depth")),
            "{refused:?}"
        );
        // A chain of inline fragments nests without adding field depth.
        let inline = format!(
            "{{ {}__typename{} }}",
            "... on Query { ".repeat(70),
            " }".repeat(70)
        );
        assert!(text_nesting_exceeds(&inline, 64));
        assert!(parse_query(&inline).is_err(), "the parser stops at 64 too");
        // A chain of fragments, each spreading the next.
        let mut chain = String::from("{ ...F0 }");
        for i in 0..70 {
            chain.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
        }
        chain.push_str(" fragment F70 on Query { __typename }");
        let refused = measure(&chain, serde_json::json!({}));
        assert!(
            matches!(&refused, Err(Refusal::TooComplex(m)) if m.contains("levels deep")),
            "{refused:?}"
        );
    }

    #[test]
    fn text_nesting_ignores_strings_and_comments() {
        assert!(!text_nesting_exceeds(
            "{ a(b: \"{{{{[[[[\\\"\") # {{{{{{\n c(d: \"\"\"{{{{\\\"\"\"{{{{\"\"\") }",
            3
        ));
        assert!(text_nesting_exceeds(&"[".repeat(200_000), 128));
        assert!(!text_nesting_exceeds(&"{}".repeat(100_000), 2));
    }

    /// The worst shapes for the parser, `size` bytes long.
    fn shapes(size: usize) -> Vec<(&'static str, String)> {
        let fragments = (0..size / 40)
            .map(|i| format!("fragment F{i} on Query {{ __typename }}"))
            .collect::<Vec<_>>()
            .join(" ");
        vec![
            ("wide", format!("{{ {} }}", "__typename ".repeat(size / 11))),
            (
                "aliased",
                format!(
                    "{{ {} }}",
                    (0..size / 16)
                        .map(|i| format!("a{i}: __typename"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            ),
            (
                "long argument",
                format!(
                    "{{ customers(first: 1, search: \"{}\") {{ totalCount }} }}",
                    "x".repeat(size - 100)
                ),
            ),
            (
                "long list",
                format!(
                    "{{ customers(tags: [{}]) {{ totalCount }} }}",
                    "\"t\",".repeat(size / 4)
                ),
            ),
            (
                "nested, repeated",
                format!(
                    "{{ {} }}",
                    format!(
                        "{}__typename{}",
                        "... on Query { ".repeat(60),
                        " }".repeat(60)
                    )
                    .repeat(size / 1100)
                ),
            ),
            ("many fragments", format!("{{ __typename }} {fragments}")),
        ]
    }

    fn time_parse(query: &str) -> Duration {
        let started = Instant::now();
        let _ = parse_query(query);
        started.elapsed()
    }

    #[test]
    fn parsing_and_measuring_are_linear_in_the_size_of_the_document() {
        // Up to the 256 KiB body limit, against documents 32 times smaller.
        let (small, large) = (8 * 1024, 256 * 1024);
        let types = types();
        for ((name, short), (_, long)) in shapes(small).into_iter().zip(shapes(large)) {
            let short_took = time_parse(&short).min(time_parse(&short));
            let long_took = time_parse(&long);
            let doc = parse_query(&long);
            let measured = doc.as_ref().map(|doc| {
                let started = Instant::now();
                let _ = check(doc, &types, &Variables::default(), None, Limits::default());
                started.elapsed()
            });
            let ratio = long_took.as_secs_f64() / short_took.as_secs_f64();
            println!(
                "{name}: {} bytes parsed in {short_took:?}, {} bytes in {long_took:?} (×{ratio:.0}); measured in {measured:?}",
                short.len(),
                long.len()
            );
            // Linear is ×32; quadratic would be ×1 000.
            assert!(ratio < 150.0, "{name}: ×{ratio:.0}");
            if let Ok(took) = measured {
                assert!(
                    took < long_took,
                    "{name}: measuring costs less than parsing"
                );
            }
        }
    }

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        let doc = parse_query(query).expect("parses");
        check(
            &doc,
            &types(),
            &Variables::from_json(variables),
            None,
            Limits {
                cost: u64::MAX,
                ..Limits::default()
            },
        )
        .expect("within the shape limits")
        .cost
    }

    #[test]
    fn cost_multiplies_children_by_page_sizes() {
        // A connection: 1 + page × (its children).
        assert_eq!(
            cost(
                "{ customers(first: 7) { totalCount } }",
                serde_json::json!({})
            ),
            1 + 7
        );
        assert_eq!(
            cost(
                "{ customers(last: 9) { totalCount } }",
                serde_json::json!({})
            ),
            1 + 9
        );
        assert_eq!(
            cost("{ customers { totalCount } }", serde_json::json!({})),
            1 + DEFAULT_PAGE_SIZE
        );
        // `edges` and `nodes` are paid for by their connection.
        assert_eq!(
            cost(
                "{ customers(first: 10) { nodes { id name } } }",
                serde_json::json!({})
            ),
            1 + 10 * (1 + 2)
        );
        // Variables, their defaults, and oversized pages (refused later) at the largest page.
        assert_eq!(
            cost(
                "query($n: Int) { customers(first: $n) { totalCount } }",
                serde_json::json!({ "n": 3 })
            ),
            1 + 3
        );
        assert_eq!(
            cost(
                "query($n: Int = 4) { customers(first: $n) { totalCount } }",
                serde_json::json!({})
            ),
            1 + 4
        );
        assert_eq!(
            cost(
                "{ customers(first: 99999999) { totalCount } }",
                serde_json::json!({})
            ),
            1 + MAX_PAGE_SIZE
        );
        // Nested pages multiply.
        assert_eq!(
            cost(
                "{ customers(first: 10) { nodes { purchases(first: 5) { nodes { id } } } } }",
                serde_json::json!({})
            ),
            1 + 10 * (1 + (1 + 5 * (1 + 1)))
        );
        // Lists with a size argument, with and without it (the schema's default).
        assert_eq!(
            cost(
                "{ customer(id: \"1\") { latestSurveyResponses(first: 5) { id } } }",
                serde_json::json!({})
            ),
            1 + (1 + 5)
        );
        assert_eq!(
            cost(
                "{ customer(id: \"1\") { latestSurveyResponses { id } } }",
                serde_json::json!({})
            ),
            1 + (1 + 1)
        );
        assert_eq!(
            cost(
                "{ mostValuableCustomers(from: \"2020-01-01\", to: \"2021-01-01\") { rank } }",
                serde_json::json!({})
            ),
            1 + 10
        );
        // Lists without a size argument count as UNSIZED_LIST_ITEMS items.
        assert_eq!(
            cost(
                "{ upcomingBirthdays(days: 366) { date } }",
                serde_json::json!({})
            ),
            1 + UNSIZED_LIST_ITEMS
        );
        // Fragments and inline fragments keep their type.
        assert_eq!(
            cost(
                "{ customers(first: 10) { ...C } } fragment C on CustomerConnection { nodes { ... on Customer { purchases(first: 2) { totalCount } } } }",
                serde_json::json!({})
            ),
            1 + 10 * (1 + (1 + 2))
        );
    }

    #[test]
    fn the_reported_attack_is_refused_on_cost() {
        // Ten aliased customers(first: 100), each with twenty aliased purchases(first: 100).
        let purchases = (0..20)
            .map(|i| {
                format!(
                    "p{i}: purchases(first: 100) {{ nodes {{ id amount currency occurredAt }} }}"
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let customers = (0..10)
            .map(|i| format!("c{i}: customers(first: 100) {{ nodes {{ id name {purchases} }} }}"))
            .collect::<Vec<_>>()
            .join(" ");
        let query = format!("{{ {customers} }}");
        let doc = parse_query(&query).expect("parses");
        let refused = check(
            &doc,
            &types(),
            &Variables::default(),
            None,
            Limits {
                aliases: u64::MAX,
                ..Limits::default()
            },
        );
        assert!(
            matches!(&refused, Err(Refusal::TooComplex(m)) if m.contains("could return up to")),
            "{refused:?}"
        );
    }

    /// Every GraphQL document in the README, docs/ and bench/queries.
    fn documented_operations() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = Vec::new();
        let mut markdown = vec![root.join("README.md")];
        for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
            markdown.push(entry.expect("entry").path());
        }
        for path in markdown {
            let text = std::fs::read_to_string(&path).expect("markdown");
            for (i, block) in text.split("```graphql\n").skip(1).enumerate() {
                let block = block.split("```").next().expect("block").to_owned();
                found.push((format!("{} #{}", path.display(), i + 1), block));
            }
        }
        for entry in std::fs::read_dir(root.join("bench/queries")).expect("bench/queries") {
            let path = entry.expect("entry").path();
            found.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).expect("query"),
            ));
        }
        found
    }

    #[test]
    fn every_documented_operation_passes_with_room() {
        let types = types();
        let operations = documented_operations();
        assert!(operations.len() > 30, "found {}", operations.len());
        let mut worst = Measure::default();
        for (name, query) in operations {
            let Ok(doc) = parse_query(&query) else {
                // Fragments of documents (a selection shown alone) are not requests.
                continue;
            };
            // The largest page any variable could ask for.
            let variables = Variables::from_json(serde_json::json!({ "first": 100, "n": 100 }));
            let names: Vec<Option<String>> = match &doc.operations {
                DocumentOperations::Single(_) => vec![None],
                DocumentOperations::Multiple(ops) => {
                    ops.keys().map(|k| Some(k.to_string())).collect()
                }
            };
            for op in names {
                let measured = check(&doc, &types, &variables, op.as_deref(), Limits::default())
                    .unwrap_or_else(|refusal| panic!("{name} {op:?}: {refusal:?}"));
                for (what, value, limit) in [
                    ("selections", measured.selections, MAX_SELECTIONS),
                    ("aliases", measured.aliases, MAX_ALIASES),
                    ("directives", measured.directives, MAX_DIRECTIVES),
                    ("depth", u64::from(measured.depth), u64::from(MAX_DEPTH)),
                    ("cost", measured.cost, MAX_COST),
                ] {
                    assert!(
                        value * 2 <= limit,
                        "{name} {op:?}: {what} {value} leaves no room under {limit}"
                    );
                }
                worst.selections = worst.selections.max(measured.selections);
                worst.aliases = worst.aliases.max(measured.aliases);
                worst.depth = worst.depth.max(measured.depth);
                worst.nesting = worst.nesting.max(measured.nesting);
                worst.cost = worst.cost.max(measured.cost);
            }
        }
        println!("largest figures of a documented operation: {worst:?}");
    }
}
