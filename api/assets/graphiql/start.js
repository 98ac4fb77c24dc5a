// Rapport's GraphiQL start-up. A file of its own (not an inline script) so
// the page's Content-Security-Policy can allow scripts from this server only.
//
// Queries and mutations go to /graphql over HTTP; subscriptions to
// /graphql/ws over graphql-ws (`graphql-transport-ws`). GraphiQL passes the
// Headers tab both as HTTP headers and as the WebSocket's `connection_init`
// payload, so one `{"Authorization": "Bearer …"}` signs in both. Headers are
// not kept in localStorage (`shouldPersistHeaders` stays false).
(function () {
  "use strict";

  // Radix's scroll lock (dialogs, menus) adds a <style> element; it takes
  // the nonce that the page's policy allows for styles from this global.
  var nonce = document.querySelector('meta[name="csp-nonce"]');
  if (nonce) {
    window.__webpack_nonce__ = nonce.getAttribute("content");
  }

  var DEFAULT_QUERY = [
    "# Welcome to Rapport's GraphiQL.",
    "#",
    "# 1. Put a password into SignIn (`rapport serve",
    "#    --demo` prints three logins) and run it: the",
    "#    run button lists the operations below.",
    "# 2. Put its accessToken into the Headers tab:",
    '#      {"Authorization": "Bearer <accessToken>"}',
    "#    Tokens last 15 minutes; sign in again after.",
    "# 3. Run Dashboard. FeedbackReceived (a subscription",
    "#    over /graphql/ws) uses the same header.",
    "",
    "mutation SignIn {",
    "  login(input: {",
    '    email: "admin@demo.rapport.dev"',
    '    password: "<password>"',
    "  }) {",
    "    accessToken",
    "    user { email role }",
    "  }",
    "}",
    "",
    "query Dashboard {",
    "  customers(",
    "    first: 10",
    "    orderBy: { field: TOTAL_REVENUE, direction: DESC }",
    "  ) {",
    "    edges {",
    "      node {",
    "        id name relationshipStage purchaseCount",
    "        totalRevenue { currency amount }",
    "        memberships { balance tier { name } }",
    "      }",
    "    }",
    "    pageInfo { hasNextPage endCursor }",
    "  }",
    "}",
    "",
    "subscription FeedbackReceived {",
    "  feedbackReceived { id customerId csi submittedAt }",
    "}",
    "",
  ].join("\n");

  var origin = window.location.origin;
  var ws = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
  var fetcher = GraphiQL.createFetcher({
    url: origin + "/graphql",
    subscriptionUrl: ws + "/graphql/ws",
  });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    })
  );
})();
