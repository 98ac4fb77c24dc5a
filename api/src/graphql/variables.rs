//! The one part of variable coercion async-graphql leaves to execution: a
//! variable of a non-null type with no default must be given a value. Left
//! alone, the executor reports it per field as a field error (`data: null`,
//! status 200); checked here, before validation, it is a request error like
//! every other variable-coercion failure (400 under
//! `application/graphql-response+json`, see [`crate::http::graphql`]).

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{Value, Variables};

/// The first variable of the selected operation that is required (non-null
/// type, no default) and not given a non-null value, as a message. `None`
/// when every required variable has a value, or when no operation can be
/// selected (validation reports that).
pub fn missing_required(
    doc: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Option<String> {
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    operation.node.variable_definitions.iter().find_map(|def| {
        let def = &def.node;
        let required = !def.var_type.node.nullable && def.default_value.is_none();
        let given = matches!(variables.get(def.name.node.as_str()), Some(v) if *v != Value::Null);
        (required && !given).then(|| {
            format!(
                "Variable \"${}\" of required type \"{}\" was not provided.",
                def.name.node, def.var_type.node
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, variables: serde_json::Value, operation: Option<&str>) -> Option<String> {
        let doc = async_graphql::parser::parse_query(query).expect("test document parses");
        missing_required(&doc, &Variables::from_json(variables), operation)
    }

    #[test]
    fn a_required_variable_without_a_value_is_named() {
        let q = "query($id: ID!, $n: Int) { __typename }";
        assert_eq!(
            check(q, serde_json::json!({}), None).as_deref(),
            Some("Variable \"$id\" of required type \"ID!\" was not provided.")
        );
        assert!(check(q, serde_json::json!({ "id": null }), None).is_some());
        assert_eq!(check(q, serde_json::json!({ "id": "1" }), None), None);
        // A default, or a nullable type, makes a variable optional.
        assert_eq!(
            check(
                "query($id: ID! = 1) { __typename }",
                serde_json::json!({}),
                None
            ),
            None
        );
        assert_eq!(
            check(
                "query($id: [ID!]) { __typename }",
                serde_json::json!({}),
                None
            ),
            None
        );
        // Only the selected operation counts.
        let two = "query A($id: ID!) { __typename } query B { __typename }";
        assert_eq!(check(two, serde_json::json!({}), Some("B")), None);
        assert!(check(two, serde_json::json!({}), Some("A")).is_some());
        assert_eq!(check(two, serde_json::json!({}), None), None);
    }
}
