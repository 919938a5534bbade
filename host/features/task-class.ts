import { TaskClass } from "../core/codes.js";

/**
 * Only the start of a message is read: the intent of a prompt is nearly always stated up front,
 * and a fixed bound keeps classification cheap whatever the body size.
 */
export const CLASSIFY_SCAN_LIMIT_CHARS = 8 * 1024;

/** A class wins only with at least this score, so one weak hint does not move a chat. */
const MIN_SCORE = 2;

interface Signal {
  pattern: RegExp;
  weight: number;
}

// Every pattern is tested once, without the g flag (no lastIndex state). Repeats are bounded or
// anchored to a line start so each test is linear in the scanned text.
const CODE: Signal[] = [
  { pattern: /```/, weight: 3 },
  {
    pattern:
      /Traceback \(most recent call last\)|^[ \t]*at [\w$.<>]{1,200} \([^()\n]{1,300}:\d+:\d+\)|^[ \t]*at [\w$.]{1,200}\([\w$]{1,100}\.(?:java|kt|scala):\d+\)|\bpanicked at\b|\bgoroutine \d+ \[|Segmentation fault|core dumped|\bUncaught \w{0,40}Error\b/m,
    weight: 3,
  },
  {
    pattern:
      /\b(?:function|class|def|regex|regexp|bug|compile|compiler|compiling|debug|refactor|stack ?trace|segfault|exception|syntax error|unit tests?|pull request)\b/i,
    weight: 2,
  },
  { pattern: /\b(?:SELECT|INSERT INTO|DELETE FROM|CREATE TABLE|ALTER TABLE)\b/, weight: 2 },
  {
    pattern:
      /\b(?:def \w{1,80}\(|fn \w{1,80}\(|func \w{1,80}\(|console\.log\(|System\.out\.|#include\b|import \w{1,80} from\b|public static void\b|npm (?:install|run)\b|pip install\b)|=>|\w\+\+|\w->\w/,
    weight: 2,
  },
  {
    pattern:
      /\b(?:python|javascript|typescript|java|rust|golang|kotlin|swift|ruby|php|bash|powershell|html|css|json|yaml|sql|dockerfile|react|node\.js|c#|c\+\+)(?![\w+#])/i,
    weight: 1,
  },
];

const MATH: Signal[] = [
  {
    pattern:
      /\b(?:solve|integral|integrate|derivative|differentiate|calculate|equation|how many|how much|probability|factorial|square root|sqrt|logarithm|percentage|sum of|product of|average of|polynomial|matrix|eigenvalues?|algebra|geometry|arithmetic|divisible|prime numbers?|simplify)\b/i,
    weight: 2,
  },
  // Digits around an operator. A dash or slash counts only with spaces, so dates such as
  // 2024-01-15 and 1/2/2024 are not read as sums.
  { pattern: /\d[ \t]{0,3}[+*^×÷=<>][ \t]{0,3}\(?-?\d|\d[ \t]{1,3}[-/][ \t]{1,3}\(?\d/, weight: 2 },
  { pattern: /[∫∑∏√π∞≤≥≠±∂]|\\(?:frac|int|sum|sqrt|cdot|times)\b/, weight: 2 },
  { pattern: /\b\d{0,6}[a-z]\^\d|\b[xyz][ \t]{0,3}[=+*/-][ \t]{0,3}\d|\b\d{1,6}[xyz]\b/i, weight: 1 },
];

const REASONING: Signal[] = [
  {
    pattern:
      /\b(?:why|explain|explanation|prove|proof|step[- ]by[- ]step|compare|comparison|contrast|analy[sz]e|analysis|pros and cons|trade-?offs?|justify|implications?|differences? between|versus|vs|what would happen|evaluate|critique)\b/i,
    weight: 2,
  },
];

const CREATIVE: Signal[] = [
  {
    pattern:
      /\b(?:poem|poems|poetry|story|stories|lyrics|song|haiku|limerick|sonnet|verse|fiction|fairy ?tale|fable|screenplay|imagine|once upon a time|rhyme|rhyming)\b/i,
    weight: 2,
  },
  { pattern: /\b(?:write (?:me )?an?|compose|make up)\b/i, weight: 1 },
];

// Ties go to the earlier class: a specific signal (a code fence, an equation) says more about which
// model fits than a generic word such as "explain" or "write a".
const CLASSES: [TaskClass, Signal[]][] = [
  [TaskClass.Code, CODE],
  [TaskClass.Math, MATH],
  [TaskClass.Reasoning, REASONING],
  [TaskClass.Creative, CREATIVE],
];

/** The task class of a prompt (normally the last user message), from cheap keyword heuristics. */
export function classifyTask(text: string): TaskClass {
  if (typeof text !== "string" || text === "") return TaskClass.Chat;
  const head = text.length > CLASSIFY_SCAN_LIMIT_CHARS ? text.slice(0, CLASSIFY_SCAN_LIMIT_CHARS) : text;
  let best: TaskClass = TaskClass.Chat;
  let bestScore = MIN_SCORE - 1;
  for (const [taskClass, signals] of CLASSES) {
    let score = 0;
    for (const { pattern, weight } of signals) if (pattern.test(head)) score += weight;
    if (score > bestScore) {
      best = taskClass;
      bestScore = score;
    }
  }
  return best;
}
