// Compares two SDL files with @graphql-inspector/core and fails on every
// breaking change that the changelog's "Unreleased" → "Breaking" section
// does not name (by its schema path in backticks, e.g. `Survey.programId`,
// or a path above it, see coveredBy).
//   usage: node guard.mjs <released.graphql> <current.graphql> <CHANGELOG.md>
import { readFileSync } from "node:fs";
import { buildSchema } from "graphql";
import { diff, CriticalityLevel } from "@graphql-inspector/core";

const [released, current, changelog] = process.argv.slice(2);
if (!changelog) {
  console.error("usage: node guard.mjs <released.graphql> <current.graphql> <CHANGELOG.md>");
  process.exit(2);
}

// The bullet lines of "### Breaking" inside "## Unreleased".
function listedBreaks(markdown) {
  const lines = markdown.split("\n");
  let inUnreleased = false;
  let inBreaking = false;
  const listed = [];
  for (const line of lines) {
    if (line.startsWith("## ")) {
      inUnreleased = /^##\s+\[?unreleased\]?/i.test(line);
      inBreaking = false;
    } else if (line.startsWith("### ")) {
      inBreaking = inUnreleased && /^###\s+breaking/i.test(line);
    } else if (inBreaking) {
      listed.push(line);
    }
  }
  return listed.join("\n");
}

// A change is listed when its path, or a path above it, is named in
// backticks: `Mutation.login` covers `Mutation.login.email`, `AuthPayload`
// covers `AuthPayload.accessToken`. A root type alone (`Mutation`) covers
// nothing: each field must be named.
const ROOTS = new Set(["Query", "Mutation", "Subscription"]);
function coveredBy(path, listed) {
  const parts = path.split(".");
  for (let n = parts.length; n >= 1; n -= 1) {
    const prefix = parts.slice(0, n).join(".");
    if (n === 1 && ROOTS.has(prefix)) break;
    if (listed.includes("`" + prefix + "`")) return true;
  }
  return false;
}

const before = buildSchema(readFileSync(released, "utf8"));
const after = buildSchema(readFileSync(current, "utf8"));
const changes = await diff(before, after);
const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
const listed = listedBreaks(readFileSync(changelog, "utf8"));

let unlisted = 0;
for (const change of breaking) {
  const path = change.path ?? "";
  const ok = path !== "" && coveredBy(path, listed);
  if (!ok) unlisted += 1;
  console.log(`${ok ? "listed  " : "UNLISTED"} ${path || "(schema)"}: ${change.message}`);
}
const dangerous = changes.filter((c) => c.criticality.level === CriticalityLevel.Dangerous).length;
console.log(
  `${changes.length} changes since the release: ${breaking.length} breaking ` +
    `(${unlisted} not in CHANGELOG.md), ${dangerous} dangerous.`,
);
if (unlisted > 0) {
  console.error(
    "Breaking schema changes must be listed under \"## Unreleased\" → \"### Breaking\" " +
      "in CHANGELOG.md, each naming its path in backticks.",
  );
  process.exit(1);
}
