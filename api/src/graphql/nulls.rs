//! Null propagation as the GraphQL specification requires it ("Handling
//! Execution Errors"): a field whose resolver fails answers null; when that
//! field is non-null, the null moves to its parent position, and on up to
//! the nearest nullable position (a nullable field or list item), or to
//! `data` itself when there is none.
//!
//! async-graphql 7 leaves a failed field out of its parent object instead
//! (`{ customerCount customer(id: …) { id } }` answered without a `customer`
//! key), answers an object all of whose fields failed as null, and never
//! nulls a parent. [`propagate`] repairs the finished answer from its
//! errors' paths: the document says which field each response key is, the
//! schema says whether each position on the path may be null. It runs only
//! when an error has a path, so an answer without errors costs nothing (a
//! per-field schema extension would make async-graphql resolve every field
//! on its slower, instrumented path).
//!
//! Subscriptions get the same repair below their root field; a failure that
//! would null the root field of an event is left as async-graphql answers it.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, PathSegment, Response, Value};

use crate::graphql::shape::TypeTable;

/// Repairs `response`, the answer to operation `operation` of `query`, so
/// every failed field's null sits where the specification puts it.
pub fn propagate(types: &TypeTable, query: &str, operation: Option<&str>, response: &mut Response) {
    if response.errors.iter().all(|error| error.path.is_empty()) {
        return;
    }
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let Some(definition) = find_operation(&doc, operation) else {
        return;
    };
    let (root, lowest) = match definition.ty {
        OperationType::Query => ("Query", 0),
        OperationType::Mutation => ("Mutation", 0),
        // Below the root field only.
        OperationType::Subscription => ("Subscription", 1),
    };
    let mut nulled: Vec<Vec<PathSegment>> = Vec::new();
    for error in &response.errors {
        if error.path.is_empty() {
            continue;
        }
        let Some(nullable) = nullability(
            types,
            &doc,
            root,
            &definition.selection_set.node,
            &error.path,
        ) else {
            continue;
        };
        match repair(&mut response.data, &error.path, &nullable, lowest, &nulled) {
            Repair::Nulled(depth) => nulled.push(error.path[..=depth].to_vec()),
            Repair::Data => {
                response.data = Value::Null;
                return;
            }
            Repair::Nothing => {}
        }
    }
}

fn find_operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        _ => None,
    }
}

/// A selection set to look in, with the type its fields belong to.
type Scope<'d> = (&'d SelectionSet, &'d str);

/// Whether each position of `path` may hold null, from the document and the
/// schema; `None` when the path does not follow the document.
fn nullability<'d>(
    types: &'d TypeTable,
    doc: &'d ExecutableDocument,
    root: &'d str,
    selection: &'d SelectionSet,
    path: &[PathSegment],
) -> Option<Vec<bool>> {
    let mut nullable = Vec::with_capacity(path.len());
    let mut scopes: Vec<Scope<'d>> = vec![(selection, root)];
    let mut levels: &[bool] = &[];
    let mut depth = 0;
    for segment in path {
        match segment {
            PathSegment::Field(key) => {
                let mut found = Vec::new();
                for &(set, parent) in &scopes {
                    collect(doc, set, parent, key, &mut found, 0);
                }
                // Fields answering one key are merged, and validation makes
                // them agree on their type's shape and nullability, so the
                // first one speaks for all.
                let &(field, parent) = found.first()?;
                let (named, field_levels) = types.output(parent, field.name.node.as_str())?;
                levels = field_levels;
                depth = 0;
                nullable.push(*levels.first()?);
                scopes = found
                    .iter()
                    .map(|(field, _)| (&field.selection_set.node, named))
                    .collect();
            }
            PathSegment::Index(_) => {
                depth += 1;
                nullable.push(*levels.get(depth)?);
            }
        }
    }
    Some(nullable)
}

/// The fields of `set` (with the type each belongs to) that answer `key`,
/// looking through fragments.
fn collect<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    parent: &'d str,
    key: &str,
    found: &mut Vec<(&'d async_graphql::parser::types::Field, &'d str)>,
    level: u32,
) {
    // Documents that ran were validated (no fragment cycles); this only
    // bounds the walk.
    if level > crate::graphql::shape::MAX_NESTING {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if field.node.response_key().node.as_str() == key {
                    found.push((&field.node, parent));
                }
            }
            Selection::InlineFragment(fragment) => {
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(parent, |condition| condition.node.on.node.as_str());
                collect(
                    doc,
                    &fragment.node.selection_set.node,
                    on,
                    key,
                    found,
                    level + 1,
                );
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    collect(
                        doc,
                        &fragment.node.selection_set.node,
                        on,
                        key,
                        found,
                        level + 1,
                    );
                }
            }
        }
    }
}

enum Repair {
    /// The position at this index of the path now holds null.
    Nulled(usize),
    /// No position up to the root may be null: `data` is.
    Data,
    /// Already repaired by an earlier error, or not this answer's shape.
    Nothing,
}

/// Finds where the failed field's value is missing on `path` and nulls the
/// nearest nullable position at or above it (not above `lowest`).
fn repair(
    data: &mut Value,
    path: &[PathSegment],
    nullable: &[bool],
    lowest: usize,
    nulled: &[Vec<PathSegment>],
) -> Repair {
    // The first position on the path that holds no value is where the
    // failure is: async-graphql leaves a failed field out.
    let mut failed = None;
    {
        let mut current = &mut *data;
        for (index, segment) in path.iter().enumerate() {
            if matches!(current, Value::Null) {
                if nulled.iter().any(|done| done.as_slice() == &path[..index]) {
                    return Repair::Nothing;
                }
                // An object all of whose fields failed came back as null;
                // it did resolve, so it becomes an object.
                *current = Value::Object(Default::default());
            }
            let next = match (segment, current) {
                (PathSegment::Field(key), Value::Object(map)) => {
                    let key = Name::new(key);
                    if !map.contains_key(&key) {
                        failed = Some(index);
                        break;
                    }
                    map.get_mut(&key)
                }
                (PathSegment::Index(i), Value::List(items)) => {
                    if *i >= items.len() {
                        failed = Some(index);
                        break;
                    }
                    items.get_mut(*i)
                }
                _ => return Repair::Nothing,
            };
            match next {
                Some(value) => current = value,
                None => return Repair::Nothing,
            }
        }
    }
    let Some(failed) = failed else {
        return Repair::Nothing;
    };
    let Some(target) = (lowest..=failed).rev().find(|&depth| nullable[depth]) else {
        return if lowest == 0 {
            Repair::Data
        } else {
            Repair::Nothing
        };
    };
    // Every position above `failed` holds a value; `target` may be the
    // missing one itself.
    let mut current = &mut *data;
    for segment in &path[..target] {
        current = match (segment, current) {
            (PathSegment::Field(key), Value::Object(map)) => match map.get_mut(key.as_str()) {
                Some(value) => value,
                None => return Repair::Nothing,
            },
            (PathSegment::Index(i), Value::List(items)) => match items.get_mut(*i) {
                Some(value) => value,
                None => return Repair::Nothing,
            },
            _ => return Repair::Nothing,
        };
    }
    match (&path[target], current) {
        (PathSegment::Field(key), Value::Object(map)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (PathSegment::Index(i), Value::List(items)) => match items.get_mut(*i) {
            Some(item) => *item = Value::Null,
            None => return Repair::Nothing,
        },
        _ => return Repair::Nothing,
    }
    Repair::Nulled(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::ServerError;
    use serde_json::json;

    const SDL: &str = r#"
        type Query { count: Int! customer(id: ID!): Customer users: [User!]! nodes(ids: [ID!]!): [Node]! }
        type Subscription { event: Customer! }
        interface Node { id: ID! }
        type Customer implements Node { id: ID! name: String! tags: [String!] owner: User }
        type User implements Node { id: ID! email: String! }
    "#;

    fn run(query: &str, data: serde_json::Value, paths: &[serde_json::Value]) -> serde_json::Value {
        let types = TypeTable::from_sdl(SDL).expect("test schema");
        let mut response = Response::new(Value::from_json(data).expect("data"));
        for path in paths {
            let mut error = ServerError::new("failed", None);
            error.path = serde_json::from_value(path.clone()).expect("path");
            response.errors.push(error);
        }
        propagate(&types, query, None, &mut response);
        response.data.into_json().expect("json")
    }

    #[test]
    fn a_failed_nullable_field_is_null_beside_its_siblings() {
        let data = run(
            "{ count c: customer(id: 1) { id } }",
            json!({ "count": 2 }),
            &[json!(["c"])],
        );
        assert_eq!(data, json!({ "count": 2, "c": null }));
    }

    #[test]
    fn a_failed_non_null_field_nulls_up_to_the_nearest_nullable_position() {
        let query = "{ count customer(id: 1) { id owner { email } name } }";
        let data = run(
            query,
            json!({ "count": 2, "customer": { "id": "1", "owner": { } } }),
            &[json!(["customer", "owner", "email"])],
        );
        assert_eq!(
            data,
            json!({ "count": 2, "customer": { "id": "1", "owner": null } })
        );
        let data = run(
            query,
            json!({ "count": 2, "customer": { "id": "1" } }),
            &[json!(["customer", "name"])],
        );
        assert_eq!(data, json!({ "count": 2, "customer": null }));
    }

    #[test]
    fn without_a_nullable_position_data_is_null() {
        let data = run(
            "{ count users { email } }",
            json!({ "count": 2 }),
            &[json!(["users"])],
        );
        assert_eq!(data, serde_json::Value::Null);
        // An item of a non-null list of non-null items: the same.
        let data = run(
            "{ count users { email } }",
            json!({ "count": 2, "users": [{ }] }),
            &[json!(["users", 0, "email"])],
        );
        assert_eq!(data, serde_json::Value::Null);
    }

    #[test]
    fn list_items_and_fragments_take_their_own_nulls() {
        let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { name } ...U } } fragment U on User { email }";
        let data = run(
            query,
            json!({ "nodes": [{ "id": "1" }, { "id": "2", "email": "a@b" }, { "id": "3" }] }),
            &[json!(["nodes", 0, "name"]), json!(["nodes", 2, "email"])],
        );
        assert_eq!(
            data,
            json!({ "nodes": [null, { "id": "2", "email": "a@b" }, null] })
        );
    }

    #[test]
    fn an_object_whose_only_field_failed_becomes_an_object_with_a_null() {
        let data = run(
            "{ customer(id: 1) { owner { id } } }",
            json!(null),
            &[json!(["customer"])],
        );
        assert_eq!(data, json!({ "customer": null }));
        let data = run(
            "{ customer(id: 1) { tags } }",
            json!({ "customer": null }),
            &[json!(["customer", "tags"])],
        );
        assert_eq!(data, json!({ "customer": { "tags": null } }));
    }

    #[test]
    fn errors_below_a_nulled_position_change_nothing_more() {
        let data = run(
            "{ customer(id: 1) { id name owner { email } } }",
            json!({ "customer": { "owner": { } } }),
            &[
                json!(["customer", "id"]),
                json!(["customer", "owner", "email"]),
            ],
        );
        assert_eq!(data, json!({ "customer": null }));
    }

    #[test]
    fn a_subscription_root_field_is_left_alone() {
        let types = TypeTable::from_sdl(SDL).expect("test schema");
        let mut response =
            Response::new(Value::from_json(json!({ "event": { "id": "1" } })).expect("data"));
        let mut error = ServerError::new("failed", None);
        error.path = serde_json::from_value(json!(["event", "name"])).expect("path");
        response.errors.push(error);
        propagate(
            &types,
            "subscription { event { id name } }",
            None,
            &mut response,
        );
        assert_eq!(
            response.data.into_json().expect("json"),
            json!({ "event": { "id": "1" } })
        );
    }
}
