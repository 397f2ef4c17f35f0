#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks of the operator files in deploy/ against the programs themselves.

  deploy_check.py names RULES DASHBOARD EXPOSITION...
      Every metric a PromQL expression in the alert rules or the Grafana
      dashboard selects exists in one of the scraped expositions (the sensor's,
      the collector's), and every label it matches on exists on that metric with
      the value asked for (exact matches and plain a|b|c alternatives). Recording
      rules (name:level:op) must be defined in RULES.
  deploy_check.py covered RULES TEST...
      Every alert in RULES fires in at least one promtool unit test.
  deploy_check.py man HELP MANPAGE
      The long options `relaywatch --help` lists and those the man page's
      OPTIONS section documents (its .TP tags) are the same set.
Exit 0 when all is well, 1 with one line per problem, 77 without python3-yaml.
"""
import json
import re
import sys

try:
    import yaml
except ImportError:
    print('SKIP: python3-yaml is not installed')
    sys.exit(77)

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
# PromQL words that may stand before '(' or '{' and are not metric names.
KEYWORDS = {'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or',
            'unless', 'bool', 'offset', 'le'}
HIST_SUFFIXES = ('_bucket', '_sum', '_count')
# Labels Prometheus adds at scrape time or that histograms carry.
TARGET_LABELS = {'instance', 'job', 'le', '__name__'}


def parse_exposition(text, fams):
    """fams: name -> {label: set(values)} for every sample (and TYPE-only family)."""
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? \S+$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith('# TYPE '):
            name, kind = line.split()[2:4]
            fams.setdefault(name, {})
            if kind == 'histogram':
                for s in HIST_SUFFIXES:
                    fams.setdefault(name + s, {})
            continue
        if not line or line.startswith('#'):
            continue
        m = sample.match(line)
        if not m:
            continue
        labels = fams.setdefault(m.group(1), {})
        for k, v in label.findall(m.group(3) or ''):
            labels.setdefault(k, set()).add(v)


def selectors(expr):
    """(metric name, [(label, op, value)]) for every vector selector in expr."""
    out = []
    i = 0
    # Strings are matcher values only inside {...}; outside they can be dropped.
    while i < len(expr):
        m = NAME.match(expr, i)
        if not m or (i > 0 and (expr[i - 1].isalnum() or expr[i - 1] in '_:."$')):
            i += 1
            continue
        name, j = m.group(0), m.end()
        while j < len(expr) and expr[j] == ' ':
            j += 1
        nxt = expr[j] if j < len(expr) else ''
        if nxt == '(' or name in KEYWORDS or not (name.startswith('relaywatch') or name == 'up'):
            i = m.end()
            continue
        matchers = []
        if nxt == '{':
            end = expr.index('}', j)
            for k, op, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"',
                                       expr[j + 1:end]):
                matchers.append((k, op, v))
            i = end + 1
        else:
            i = m.end()
        out.append((name, matchers))
    return out


def strip_by_clauses(expr):
    """Label lists of by/without/on/ignoring/group_*: not selectors."""
    return re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', expr)


def check_selector(where, name, matchers, fams, records, problems):
    if name == 'up':
        return
    if ':' in name:
        if name not in records:
            problems.append('%s: recording rule %s is not defined in the rules' % (where, name))
        return
    if name not in fams:
        problems.append('%s: %s is not in any exposition' % (where, name))
        return
    labels = fams[name]
    for k, op, v in matchers:
        if k in TARGET_LABELS or '$' in v:
            continue
        if k not in labels:
            problems.append('%s: %s has no label %s' % (where, name, k))
            continue
        if op in ('=', '!='):
            wanted = [v]
        elif re.fullmatch(r'[a-zA-Z0-9_.|]+', v):
            wanted = v.split('|')
        else:
            continue
        for w in wanted:
            if w not in labels[k]:
                problems.append('%s: %s{%s} never has the value "%s" (seen: %s)' %
                                (where, name, k, w, ', '.join(sorted(labels[k]))))


def dashboard_exprs(dash):
    out = []
    for p in dash.get('panels', []):
        for q in p.get('panels', []) + [p]:
            for t in q.get('targets', []):
                out.append(('dashboard "%s"' % q.get('title', '?'), t['expr']))
    for v in dash.get('templating', {}).get('list', []):
        q = v.get('query')
        if isinstance(q, dict):
            q = q.get('query')
        if v.get('type') == 'query' and q:
            m = re.match(r'label_values\((.*),\s*\w+\)$', q)
            out.append(('dashboard variable $%s' % v['name'], m.group(1) if m else q))
    return out


def cmd_names(rules_path, dash_path, expositions):
    fams = {}
    for e in expositions:
        with open(e) as f:
            parse_exposition(f.read(), fams)
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    with open(dash_path) as f:
        dash = json.load(f)
    records = set()
    exprs = []
    for g in rules['groups']:
        for r in g['rules']:
            if 'record' in r:
                records.add(r['record'])
            exprs.append(('rule %s' % r.get('alert', r.get('record')), r['expr']))
    exprs += dashboard_exprs(dash)
    problems = []
    n_sel = 0
    for where, expr in exprs:
        for name, matchers in selectors(strip_by_clauses(expr)):
            n_sel += 1
            check_selector(where, name, matchers, fams, records, problems)
    if n_sel < 50:
        problems.append('only %d selectors found: the expression parser is broken' % n_sel)
    print('%d expressions, %d selectors checked against %d families' %
          (len(exprs), n_sel, len(fams)))
    return problems


def cmd_covered(rules_path, tests):
    with open(rules_path) as f:
        alerts = {r['alert'] for g in yaml.safe_load(f)['groups'] for r in g['rules']
                  if 'alert' in r}
    fired = set()
    for t in tests:
        with open(t) as f:
            for case in yaml.safe_load(f)['tests']:
                for a in case.get('alert_rule_test', []):
                    if a.get('exp_alerts'):
                        fired.add(a['alertname'])
    print('%d alerts, %d fire in a unit test' % (len(alerts), len(alerts & fired)))
    return ['alert %s never fires in deploy/prometheus/tests' % a for a in sorted(alerts - fired)]


def long_options(text):
    return set(re.findall(r'(?<![\w-])--([a-z][a-z0-9-]*)', text))


def man_option_tags(roff):
    """The tag lines (the line after .TP) of the OPTIONS section: what it documents."""
    tags = []
    in_options = False
    lines = roff.replace('\\-', '-').splitlines()
    for i, line in enumerate(lines):
        if line.startswith('.SH'):
            in_options = line.split(None, 1)[1].strip('"') == 'OPTIONS'
        elif in_options and line.startswith('.TP') and i + 1 < len(lines):
            tags.append(lines[i + 1])
    return '\n'.join(tags)


def cmd_man(help_path, man_path):
    with open(help_path) as f:
        helped = long_options(f.read())
    with open(man_path) as f:
        manned = long_options(man_option_tags(f.read()))
    problems = ['--%s is in --help but not in %s' % (o, man_path) for o in sorted(helped - manned)]
    problems += ['--%s is in %s but not in --help' % (o, man_path) for o in sorted(manned - helped)]
    print('%d long options in --help, %d in the man page' % (len(helped), len(manned)))
    if len(helped) < 10:
        problems.append('--help lists only %d long options: not the real help text?' % len(helped))
    return problems


def main(argv):
    if len(argv) >= 4 and argv[1] == 'names':
        problems = cmd_names(argv[2], argv[3], argv[4:])
    elif len(argv) >= 4 and argv[1] == 'covered':
        problems = cmd_covered(argv[2], argv[3:])
    elif len(argv) == 4 and argv[1] == 'man':
        problems = cmd_man(argv[2], argv[3])
    else:
        print(__doc__)
        return 2
    for p in problems:
        print('FAIL: ' + p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
