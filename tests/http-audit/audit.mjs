// Runs the GraphQL-over-HTTP reference audit (graphql-http `auditServer`)
// against a running server and exits non-zero on any error or warning, and on
// any notice not listed in ALLOWED_NOTICES.
//   usage: node audit.mjs <url> [bearer-token]
import { auditServer } from 'graphql-http';

// Notices (failed MAY-level audits) that Rapport leaves on purpose, each with
// the place that says why. Empty: every MAY the audit checks holds.
const ALLOWED_NOTICES = new Map([]);

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs <url> [bearer-token]');
  process.exit(2);
}

const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
let failed = false;
for (const result of results) {
  counts[result.status] += 1;
  if (result.status === 'ok') continue;
  const allowed = result.status === 'notice' && ALLOWED_NOTICES.has(result.id);
  if (!allowed) failed = true;
  let body = '';
  try {
    body = await result.response.text();
  } catch {
    body = '(body already read)';
  }
  console.log(
    `${allowed ? 'allowed ' : ''}${result.status.toUpperCase()} ${result.id} ${result.name}\n` +
      `  ${result.reason}\n` +
      `  -> ${result.response.status} ${result.response.headers.get('content-type')} ${body.slice(0, 300)}` +
      (allowed ? `\n  why: ${ALLOWED_NOTICES.get(result.id)}` : ''),
  );
}
console.log(
  `${token ? 'with a bearer token' : 'anonymously'}: ${counts.ok} ok, ${counts.error} errors, ` +
    `${counts.warn} warnings, ${counts.notice} notices (of ${results.length} audits)`,
);
process.exit(failed ? 1 : 0);
