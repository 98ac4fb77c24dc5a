//! Null propagation as the GraphQL specification requires it ("Handling
//! Execution Errors"): a field whose resolver fails answers null; when that
//! field is non-null, the null moves to its parent position, and on up to
//! the nearest nullable position (a nullable field or list item), or to
//! `data` itself when there is none.
//!
//! async-graphql 7 leaves a failed field out of its parent object instead
//! (`{ customerCount customer(id: …) { id } }` answered without a `customer`
//! key) and never nulls a parent. This extension repairs the answer as
//! resolution returns, bottom-up: each failing field is recorded with its
//! path, and the nearest ancestor field whose resolution completes applies
//! the record to the value it returns (or hands it on to its own parent).
//! The error itself is reported once, at the field that failed, by
//! async-graphql. When nothing failed, a field costs one atomic load.
//!
//! Subscriptions get the same repair below their root field; a failure that
//! would null the root field of an event is left as async-graphql answers it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{Name, QueryPathSegment, Response, ServerResult, Value};

/// A response path: field response keys and list indices (a response key is
/// a GraphQL name and never starts with a digit, so indices are the
/// segments that parse as numbers).
type Path = Vec<String>;

/// What a failure asks of the answer.
#[derive(Debug)]
enum Fix {
    /// A nullable field at this path failed: its key holds null.
    Null(Path),
    /// A non-null field at this path failed or was nulled: the position
    /// holding its parent object must be null, or one further up.
    Bubble(Path),
}

impl Fix {
    fn path(&self) -> &Path {
        match self {
            Fix::Null(path) | Fix::Bubble(path) => path,
        }
    }
}

/// The extension factory (one propagator per request).
pub struct NullPropagation;

impl ExtensionFactory for NullPropagation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Propagator::default())
    }
}

#[derive(Default)]
struct Propagator {
    fixes: Mutex<Vec<Fix>>,
    /// `fixes.len()`, readable without the lock.
    pending: AtomicUsize,
}

impl Propagator {
    fn push(&self, fix: Fix) {
        let mut fixes = self.fixes.lock().unwrap_or_else(|e| e.into_inner());
        fixes.push(fix);
        self.pending.store(fixes.len(), Ordering::Release);
    }

    /// Removes and returns the records strictly below `path`.
    fn take_below(&self, path: &[String]) -> Vec<Fix> {
        let mut fixes = self.fixes.lock().unwrap_or_else(|e| e.into_inner());
        let (below, rest): (Vec<Fix>, Vec<Fix>) = fixes.drain(..).partition(|fix| {
            let p = fix.path();
            p.len() > path.len() && p.starts_with(path)
        });
        *fixes = rest;
        self.pending.store(fixes.len(), Ordering::Release);
        below
    }
}

/// Whether each level of a GraphQL type is nullable: the field itself, then
/// its list items, their items, … (`[Customer!]!` → `[false, false]`).
fn nullable_levels(mut ty: &str) -> Vec<bool> {
    let mut levels = Vec::new();
    loop {
        let (inner, non_null) = match ty.strip_suffix('!') {
            Some(inner) => (inner, true),
            None => (ty, false),
        };
        levels.push(!non_null);
        match inner.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(item) => ty = item,
            None => return levels,
        }
    }
}

/// The value at `indices` inside `value` (list positions only).
fn at_mut<'v>(value: &'v mut Value, indices: &[String]) -> Option<&'v mut Value> {
    let mut current = value;
    for segment in indices {
        let index: usize = segment.parse().ok()?;
        current = match current {
            Value::List(items) => items.get_mut(index)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Sets `key` of the object at `target` to null. An object all of whose
/// fields failed came back as null; it did resolve, so it becomes an object.
fn insert_null(target: &mut Value, key: &str) {
    if matches!(target, Value::Null) {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(map) = target {
        map.insert(Name::new(key), Value::Null);
    }
}

/// Applies `fixes` (all below the field at `base`, whose type has the
/// nullability `levels`) to the field's `value`. Returns whether the field
/// itself must be null although its type is non-null (the parent's turn).
fn apply(value: &mut Value, base: usize, levels: &[bool], fixes: Vec<Fix>) -> bool {
    let (nulls, bubbles): (Vec<Fix>, Vec<Fix>) =
        fixes.into_iter().partition(|f| matches!(f, Fix::Null(_)));
    // Keys first: a bubble may then null the object that holds them.
    for fix in nulls {
        let rest = &fix.path()[base..];
        if let Some((key, indices)) = rest.split_last() {
            if let Some(target) = at_mut(value, indices) {
                insert_null(target, key);
            }
        }
    }
    let mut bubble_up = false;
    for fix in bubbles {
        let rest = &fix.path()[base..];
        let indices = &rest[..rest.len().saturating_sub(1)];
        // The failed field's parent object sits at list depth
        // `indices.len()` of this field's value; find the nearest nullable
        // position from there up to the field itself.
        let mut depth = indices.len();
        loop {
            if levels.get(depth).copied().unwrap_or(true) {
                if let Some(target) = at_mut(value, &indices[..depth]) {
                    *target = Value::Null;
                }
                break;
            }
            if depth == 0 {
                bubble_up = true;
                break;
            }
            depth -= 1;
        }
    }
    bubble_up
}

#[async_trait::async_trait]
impl Extension for Propagator {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let return_type = info.return_type;
        let path_node = info.path_node;
        // An abstract type's list item (a `Node` in `nodes`) passes through
        // here too, under the item's path and with the item type as
        // non-null; the list field itself decides about its items.
        if matches!(path_node.segment, QueryPathSegment::Index(_)) {
            return next.run(ctx, info).await;
        }
        let result = next.run(ctx, info).await;
        let nullable = !return_type.ends_with('!');
        match result {
            Err(err) => {
                let path = path_node.to_string_vec();
                self.push(if nullable {
                    Fix::Null(path)
                } else {
                    Fix::Bubble(path)
                });
                Err(err)
            }
            Ok(value) if self.pending.load(Ordering::Acquire) == 0 => Ok(value),
            Ok(mut value) => {
                let path = path_node.to_string_vec();
                let fixes = self.take_below(&path);
                if fixes.is_empty() {
                    return Ok(value);
                }
                let levels = nullable_levels(return_type);
                if let Some(inner) = value.as_mut() {
                    if apply(inner, path.len(), &levels, fixes) {
                        // Non-null and null: the parent's position takes it.
                        self.push(Fix::Bubble(path));
                        return Ok(Some(Value::Null));
                    }
                }
                Ok(value)
            }
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let fixes = self.take_below(&[]);
        if !fixes.is_empty() && apply(&mut response.data, 0, &[true], fixes) {
            response.data = Value::Null;
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_levels_read_outside_in() {
        assert_eq!(nullable_levels("Customer"), [true]);
        assert_eq!(nullable_levels("Customer!"), [false]);
        assert_eq!(nullable_levels("[Customer!]!"), [false, false]);
        assert_eq!(nullable_levels("[Node]!"), [false, true]);
        assert_eq!(nullable_levels("[[Int!]]"), [true, true, false]);
    }
}
