// `npm start` and `npm test` run this first: on a Node.js older than package.json's `engines`
// they would otherwise fail minutes later (the console build) or with a bare "Cannot find module
// 'node:sqlite'". Written in syntax any Node.js since 14 parses, so the old Node reaches the message.
//   node scripts/check-node.mjs            checks the running Node.js
//   node scripts/check-node.mjs 22.22.2    checks that version instead (for tests)
import { readFileSync } from 'node:fs';

const FIX = 'source scripts/use-node24.sh';

function parseVersion(text) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(String(text).trim());
  return m ? [Number(m[1]), Number(m[2] || 0), Number(m[3] || 0)] : undefined;
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** One comparator of a semver range: ^X.Y.Z, ~X.Y.Z, >=, >, <=, <, = or a bare version. */
function satisfiesComparator(version, comparator) {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(comparator);
  const bound = m && parseVersion(m[2]);
  if (!bound) throw new Error('unsupported engines comparator: ' + comparator);
  const c = compare(version, bound);
  switch (m[1]) {
    case '^':
      return c >= 0 && (bound[0] > 0 ? version[0] === bound[0] : version[1] === bound[1]);
    case '~':
      return c >= 0 && version[0] === bound[0] && version[1] === bound[1];
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    default:
      return c === 0;
  }
}

/** `a b || c`: any alternative whose comparators all hold. */
function satisfies(version, range) {
  return range.split('||').some((alternative) => {
    const comparators = alternative
      .trim()
      .replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1')
      .split(/\s+/);
    return comparators.every((comparator) => satisfiesComparator(version, comparator));
  });
}

const range = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
const actual = process.argv[2] || process.versions.node;
const version = parseVersion(actual);
if (!version || !satisfies(version, range)) {
  console.error(
    `需要 Node.js ${range}，当前是 v${actual.replace(/^v/, '')}。请先运行 \`${FIX}\`（下载 Node.js 24 并放到 PATH 最前面），再重新执行本命令。\n` +
      `Node.js ${range} is required, this is v${actual.replace(/^v/, '')}. Run \`${FIX}\` first (it fetches Node.js 24 and puts it first on PATH), then run this command again.`,
  );
  process.exit(1);
}
