//! Request-level rules the schema's built-in limits do not cover, and the
//! final pass that gives every error a code.
//!
//! Checked on the parsed document, before validation and before any resolver
//! (so before any SQL): the number of aliases, and at most one "sensitive"
//! root field per operation (login, refreshSession, submitSurveyResponse,
//! redeemReward), which stops batching brute-force attempts into one request.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    ErrorExtensions, Positioned, Response, ServerError, ServerResult, Value, Variables,
};

use crate::graphql::context::RequestId;
use crate::graphql::error::code;

/// Most aliases one document may use.
pub const MAX_ALIASES: usize = 30;

/// Root fields of which a document may contain at most one.
pub const SENSITIVE_ROOT_FIELDS: &[&str] = &[
    "login",
    "refreshSession",
    "submitSurveyResponse",
    "redeemReward",
];

/// The extension factory.
pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension)
    }
}

struct LimitsExtension;

fn reject(message: &str) -> ServerError {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code::BAD_USER_INPUT))
        .into_server_error(Default::default())
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut counter = Counter {
            doc: &doc,
            aliases: 0,
            visited: HashSet::new(),
        };
        for (_, op) in doc.operations.iter() {
            counter.walk(&op.node.selection_set);
            let mut sensitive = 0;
            counter.root_fields(&op.node.selection_set, &mut HashSet::new(), &mut sensitive);
            if sensitive > 1 {
                return Err(reject(
                    "At most one of login, refreshSession, submitSurveyResponse and redeemReward may appear in one request.",
                ));
            }
        }
        if counter.aliases > MAX_ALIASES {
            return Err(reject("Too many aliases in one request."));
        }
        Ok(doc)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let request_id = ctx.data_opt::<RequestId>().map(|r| r.0.clone());
        for error in &mut response.errors {
            fill_code(error, request_id.as_deref());
        }
        response
    }
}

/// Errors raised before execution (parse, validation, input coercion, limits)
/// carry no code: they are the client's mistake, `BAD_USER_INPUT`. Internal
/// errors get the request id.
pub fn fill_code(error: &mut ServerError, request_id: Option<&str>) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let code = match extensions.get("code") {
        Some(Value::String(code)) => code.clone(),
        _ => {
            extensions.set("code", code::BAD_USER_INPUT);
            code::BAD_USER_INPUT.to_owned()
        }
    };
    if code == code::INTERNAL {
        if let Some(id) = request_id {
            extensions.set("requestId", id);
        }
    }
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    aliases: usize,
    visited: HashSet<String>,
}

impl Counter<'_> {
    fn walk(&mut self, set: &Positioned<SelectionSet>) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    self.walk(&field.node.selection_set);
                }
                Selection::InlineFragment(fragment) => self.walk(&fragment.node.selection_set),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.to_string();
                    // Each fragment is counted once; cycles are rejected later by validation.
                    if self.visited.insert(name.clone()) {
                        if let Some(fragment) =
                            self.doc.fragments.get(&spread.node.fragment_name.node)
                        {
                            self.walk(&fragment.node.selection_set);
                        }
                    }
                }
            }
        }
    }

    fn root_fields(
        &self,
        set: &Positioned<SelectionSet>,
        seen: &mut HashSet<String>,
        count: &mut usize,
    ) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    if SENSITIVE_ROOT_FIELDS.contains(&field.node.name.node.as_str()) {
                        *count += 1;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.root_fields(&fragment.node.selection_set, seen, count)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.to_string();
                    if seen.insert(name) {
                        if let Some(fragment) =
                            self.doc.fragments.get(&spread.node.fragment_name.node)
                        {
                            self.root_fields(&fragment.node.selection_set, seen, count);
                        }
                    }
                }
            }
        }
    }
}
