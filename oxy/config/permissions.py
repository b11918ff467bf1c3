"""`permissions:` of an agent: which workspace tool calls run, which ask a person, which are refused.

```yaml
permissions:
  allow: ["read(**)", "glob", "grep", "bash(git status*)", "bash(pytest*)"]
  ask:   ["write(src/**)", "edit(src/**)", "bash(*)"]
  deny:  ["read(**/.env)", "bash(rm -rf *)", "webfetch(*)"]
```

A rule is a workspace tool's name, alone (every call of it) or with a pattern in parentheses. What the
pattern is matched against depends on the tool: a path relative to the workspace root for `read`,
`write`, `edit`, `glob`, `grep` and `lsp` (`*` within one folder, `**` across folders, `?` one
character); the command for `bash` and `task_start` (`*` is any text); the URL for `webfetch` (`*` is
any text). deny beats ask beats allow; a call no rule matches is asked. `todo`, `question`,
`task_output` and `task_stop` touch nothing outside the run and are allowed unless a rule denies them.

A shell command is judged part by part: `a && b | c; d` is four commands and the strictest decision
wins, so `bash(git status*)` does not allow `git status && rm -rf ~`. A command with a substitution
(`$(...)`, backticks) or a redirection (`>`, `<`) is never allowed by a rule: it is asked (or denied).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from oxy.config._base import StrictModel

__all__ = [
    "COMMAND_TOOLS",
    "PATH_TOOLS",
    "SAFE_TOOLS",
    "WORKSPACE_TOOLS",
    "Decision",
    "Permissions",
    "Rule",
    "Verdict",
    "command_parts",
    "parse_rule",
    "path_pattern",
]

PATH_TOOLS = ("read", "write", "edit", "glob", "grep", "lsp")
COMMAND_TOOLS = ("bash", "task_start")
SAFE_TOOLS = ("todo", "question", "task_output", "task_stop")
WORKSPACE_TOOLS = (*PATH_TOOLS, *COMMAND_TOOLS, "webfetch", *SAFE_TOOLS)
"""Every tool a `type: workspace` toolset offers, by the name the model calls it."""

Decision = Literal["allow", "ask", "deny"]
_SEVERITY: dict[Decision, int] = {"allow": 0, "ask": 1, "deny": 2}
_RULE = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Rule:
    """`tool` or `tool(pattern)`, as written (`text`) under `decision`."""

    decision: Decision
    tool: str
    pattern: str | None
    text: str

    def matches(self, tool: str, subject: str | None) -> bool:
        if tool != self.tool:
            return False
        if self.pattern is None:
            return True
        if subject is None:
            return False
        if tool not in PATH_TOOLS:
            return _whole(self.pattern, subject)
        if self.decision != "allow":  # `.ENV` is `.env` on a case-insensitive disk
            return path_pattern(self.pattern.lower()).fullmatch(subject.lower()) is not None
        return path_pattern(self.pattern).fullmatch(subject) is not None

    def __str__(self) -> str:
        return f"{self.decision}: {self.text}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rules decided for one call, and the rule that decided it (None: no rule matched)."""

    decision: Decision
    rule: Rule | None

    @property
    def why(self) -> str:
        if self.rule is not None:
            return f"rule {self.rule}"
        return "no permission rule matches it"


def parse_rule(text: str, decision: Decision) -> Rule:
    """A rule from its text; a `ValueError` saying what is wrong and what is allowed."""
    match = _RULE.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a rule: write a tool name, or a tool name and a pattern: 'bash(pytest*)'"
        )
    tool, pattern = match.group(1), match.group(2)
    if tool not in WORKSPACE_TOOLS:
        raise ValueError(f"{text!r} names no workspace tool; the tools are: {', '.join(WORKSPACE_TOOLS)}")
    if pattern is not None:
        pattern = pattern.strip()
        if not pattern:
            raise ValueError(f"{text!r} has an empty pattern; write {tool!r} for every call, or a pattern")
        if tool in SAFE_TOOLS:
            raise ValueError(f"{text!r}: {tool} takes no pattern; write {tool!r}")
    return Rule(decision=decision, tool=tool, pattern=pattern, text=text.strip())


def _valid_rule(text: str) -> str:
    parse_rule(text, "allow")
    return text


RuleText = Annotated[str, AfterValidator(_valid_rule)]


class Permissions(StrictModel):
    """Rules for the workspace tools' calls: deny beats ask beats allow; no match asks."""

    allow: list[RuleText] = Field(default_factory=list[str], description="Calls that run without asking.")
    ask: list[RuleText] = Field(default_factory=list[str], description="Calls a person approves first.")
    deny: list[RuleText] = Field(default_factory=list[str], description="Calls that are refused.")

    def rules(self) -> tuple[Rule, ...]:
        """Every rule, deny first, then ask, then allow."""
        return _rules(tuple(self.deny), tuple(self.ask), tuple(self.allow))

    def decide(self, tool: str, subject: str | None) -> Verdict:
        """The decision for a call of `tool` on `subject` (a path, a command, a URL, or None)."""
        if tool in COMMAND_TOOLS and subject is not None:
            return self._decide_command(tool, subject)
        return self._first(tool, subject, default="allow" if tool in SAFE_TOOLS else "ask")

    def _first(self, tool: str, subject: str | None, *, default: Decision) -> Verdict:
        for rule in self.rules():
            if rule.matches(tool, subject):
                return Verdict(rule.decision, rule)
        return Verdict(default, None)

    def _decide_command(self, tool: str, command: str) -> Verdict:
        """deny and ask rules are looked for anywhere in the command (after a word boundary, so
        `bash(rm *)` also catches `(rm -rf /)`, `X=1 rm -rf /`, `sh -c 'rm -rf /'`), which may ask or
        refuse more than meant but never less; allow rules must match each simple command whole."""
        texts = _spellings(command)
        stricter = [r for r in self.rules() if r.tool == tool and r.decision != "allow"]
        for decision in ("deny", "ask"):
            for rule in stricter:
                if rule.decision != decision:
                    continue
                if rule.pattern is None or any(_found(rule.pattern, text) for text in texts):
                    return Verdict(decision, rule)
        parts = command_parts(command)
        if parts is None:  # a substitution or a redirection: never allowed by a rule
            return Verdict("ask", None)
        worst: Verdict | None = None
        for part in parts:
            verdict = self._first(tool, part, default="ask")
            if worst is None or _SEVERITY[verdict.decision] > _SEVERITY[worst.decision]:
                worst = verdict
        return worst if worst is not None else Verdict("ask", None)


_BOUNDARY_CHARS = frozenset(" ;&|(){}'\"`=/$")
_OPERATOR = re.compile(r"([|;&()<>])")


def _respaced(text: str) -> str:
    """`text` with a space around each shell operator and runs of whitespace as one space: `x|sh`
    and `x | sh` read the same."""
    return " ".join(_OPERATOR.sub(r" \1 ", text).split())


@cache
def _pieces(pattern: str) -> tuple[str, ...]:
    """A command pattern's literal pieces (between its `*`s), spaced as `_respaced` spaces text, each
    keeping a space at an end where it had one (or an operator) to mark a word's end."""

    def piece(raw: str) -> str:
        core = _respaced(raw)
        if not core:
            return " " if raw and raw.isspace() else ""
        lead = " " if raw[0].isspace() or raw[0] in "|;&()<>" else ""
        tail = " " if raw[-1].isspace() or raw[-1] in "|;&()<>" else ""
        return lead + core + tail

    return tuple(piece(raw) for raw in pattern.split("*"))


def _found(pattern: str, text: str) -> bool:
    """Whether the pattern's pieces occur in `text` in order, the first at a word start: linear in
    the text's length whatever the pattern (the first place a piece occurs is the best place)."""
    pieces = _pieces(pattern)
    padded = f" {text} "
    first, rest = pieces[0], pieces[1:]
    at = padded.find(first)
    while at >= 0 and not (first[:1] == " " or padded[at - 1] in _BOUNDARY_CHARS):
        at = padded.find(first, at + 1)
    if at < 0:
        return False
    at += len(first)
    for piece in rest:
        at = padded.find(piece, at)
        if at < 0:
            return False
        at += len(piece)
    return True


def _spellings(command: str) -> list[str]:
    """The ways a rule looks at a command: as written, and as the shell reads its words (quotes,
    backslashes and line continuations removed: `'r'm` and `r\\<newline>m` are `rm`), each with its
    operators spaced out."""
    joined = command.replace("\\\n", "")
    texts = [_respaced(joined)]
    for comments in (False, True):
        try:
            texts.append(_respaced(" ".join(shlex.split(joined, comments=comments, posix=True))))
        except ValueError:  # unbalanced quotes: the other spellings are all there is
            pass
    return list(dict.fromkeys(texts))


@cache
def _rules(deny: Sequence[str], ask: Sequence[str], allow: Sequence[str]) -> tuple[Rule, ...]:
    return (
        *(parse_rule(r, "deny") for r in deny),
        *(parse_rule(r, "ask") for r in ask),
        *(parse_rule(r, "allow") for r in allow),
    )


_PUNCTUATION = frozenset(";&|<>()")
_BRACES = re.compile(r"\{[^}]*,[^}]*\}")
"""Brace expansion (`{rm,-rf,/}` runs `rm -rf /`): a command with it is never allowed by a rule."""


def command_parts(command: str) -> list[str] | None:
    """The simple commands of a shell command line, each with its words joined by one space; None when
    it holds what a rule cannot judge (a substitution, a redirection, unbalanced quotes)."""
    if any(mark in command for mark in ("$(", "`", "<(", ">(", "\\\n", "${")) or _BRACES.search(command):
        return None
    lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    parts: list[str] = []
    words: list[str] = []
    try:
        for token in lexer:
            if token and set(token) <= _PUNCTUATION:  # an operator or a redirection
                if "<" in token or ">" in token:
                    return None
                if words:
                    parts.append(" ".join(words))
                words = []
                continue
            words.append(token)
    except ValueError:  # unbalanced quotes
        return None
    if words:
        parts.append(" ".join(words))
    return parts


def _whole(pattern: str, text: str) -> bool:
    """Whether a command or URL pattern (`*` any text) matches all of `text`: its first piece starts
    it, its last ends it, the others occur in order between. Linear, like `_found`."""
    if "*" not in pattern:
        return text == pattern
    first, *middle, last = pattern.split("*")
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    at, end = len(first), len(text) - len(last)
    for piece in middle:
        at = text.find(piece, at, end)
        if at < 0:
            return False
        at += len(piece)
    return True


@cache
def path_pattern(pattern: str) -> re.Pattern[str]:
    """A path glob as a regular expression over `/`-separated relative paths: `*` within one folder,
    `**` across folders (`**/` also matches no folder), `?` one character."""
    pattern = re.sub(r"(?:\*\*/)+", "**/", pattern.removeprefix("./"))  # `**/**/` is `**/`
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)
