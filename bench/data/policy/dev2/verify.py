#!/usr/bin/env python
"""Check the dev2 policy QA set (docs.jsonl, questions.jsonl, docs/).

Usage:  python verify.py [questions file ...]      (default: questions.jsonl)

Text extraction
  .html  visible text (script/style dropped); a paragraph = one block element
         (p, div, li, h1-h6, dt/dd, table row; table cells of a row joined by a space)
  .docx  python-docx paragraphs, plus one paragraph per table row (cells joined by a space)
  .txt   one paragraph per line
  Documents with script 繁体 are converted with OpenCC t2s before comparing.

Checks (any failure -> exit code 1)
  - fields, qid format/uniqueness, kind and constraint vocabularies
  - answerable: every evidence phrase 4-15 chars (names allowed via NAME_OK), every
    phrase of a group inside ONE paragraph of ONE listed doc, every listed doc
    contributes at least one group, every fact group has an alternative found
    verbatim in a listed doc, every alternative found in some listed doc
  - unanswerable: evidence, facts, docs all empty
  - each document has 2,500-3,500 Chinese characters of visible text
Review output (not a failure)
  - for each unanswerable question, every paragraph in ALL documents that matches
    one of its probes (term lists in PROBES) is printed for reading.
"""
import json
import os
import re
import sys
from collections import Counter

import docx
import lxml.html
import opencc

HERE = os.path.dirname(os.path.abspath(__file__))
DOCDIR = os.path.join(HERE, 'docs')
T2S = opencc.OpenCC('t2s')

KINDS = ['number-total', 'number-rate', 'per-capita', 'year-constrained', 'place-constrained',
         'person', 'date', 'definition', 'list', 'regulation-article', 'cross-document',
         'two-part', 'unanswerable']
CONSTRAINTS = ['none', 'year', 'place', 'level', 'quantity-kind', 'programme']
FIELDS = ['qid', 'question', 'kind', 'evidence', 'facts', 'answerable', 'docs', 'constraint',
          'note']
NAME_OK = set()   # 3-character personal names allowed as evidence phrases (none used)

BLOCK = {'p', 'div', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'tr',
         'dt', 'dd', 'dl', 'br', 'section', 'article', 'header', 'footer', 'form', 'body'}


def html_paragraphs(path):
    with open(path, encoding='utf-8') as fh:
        root = lxml.html.fromstring(fh.read())
    for el in root.xpath('//script|//style|//noscript'):
        el.drop_tree()
    out = []

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else ''
        if tag in BLOCK:
            out.append('\n')
        if el.text and tag not in ('script', 'style'):
            out.append(el.text)
        for ch in el:
            walk(ch)
            if isinstance(ch.tag, str) and ch.tag in ('td', 'th'):
                out.append(' ')
            if ch.tail:
                out.append(ch.tail)
        if tag in BLOCK:
            out.append('\n')
    walk(root)
    text = ''.join(out)
    paras = [re.sub(r'[ \t\r\f\v]+', ' ', line).strip() for line in text.split('\n')]
    return [p for p in paras if p]


def docx_paragraphs(path):
    d = docx.Document(path)
    paras = [p.text.strip() for p in d.paragraphs if p.text.strip()]
    for t in d.tables:
        for r in t.rows:
            paras.append(' '.join(c.text.strip() for c in r.cells))
    return paras


def txt_paragraphs(path):
    with open(path, encoding='utf-8') as fh:
        text = fh.read()
    return [line.strip() for line in text.split('\n') if line.strip()]


def load_docs():
    with open(os.path.join(HERE, 'docs.jsonl'), encoding='utf-8') as fh:
        meta = [json.loads(line) for line in fh if line.strip()]
    docs = {}
    for m in meta:
        path = os.path.join(DOCDIR, m['file'])
        if m['format'] == 'html':
            paras = html_paragraphs(path)
        elif m['format'] == 'docx':
            paras = docx_paragraphs(path)
        else:
            paras = txt_paragraphs(path)
        if m['script'] == '繁体':
            paras = [T2S.convert(p) for p in paras]
        docs[m['file']] = paras
    files = sorted(os.listdir(DOCDIR))
    return meta, docs, files


# Probes for unanswerable questions: each probe is a list of terms that must all occur in one
# paragraph. Every hit is printed for manual review.
PROBES = {
    'pd2-045': [['2022年', '生产总值'], ['2022年', 'GDP'], ['2022年常德']],
    'pd2-046': [['桃源', '2023年'], ['2023年', '生产总值', '全县']],
    'pd2-047': [['2024年', '目标', '生产总值'], ['预期目标', '生产总值'], ['2024年', '增长6%']],
    'pd2-048': [['2022年', '城镇居民'], ['城镇居民人均可支配收入']],
    'pd2-049': [['PM2.5'], ['微克'], ['全县', '空气']],
    'pd2-050': [['茶园面积'], ['茶园', '万亩']],
    'pd2-051': [['大理'], ['州', '条例'], ['施行']],
    'pd2-052': [['汉寿'], ['全县', '地区生产总值']],
    'pd2-053': [['澧县'], ['粮食总产量']],
    'pd2-054': [['济南'], ['高龄津贴'], ['90至99']],
    'pd2-055': [['固定资产投资'], ['投资', '亿元']],
    'pd2-056': [['规模以上工业增加值', '亿元']],
    'pd2-057': [['一次性'], ['种粮'], ['实际种粮']],
    'pd2-058': [['一园五区'], ['五区'], ['一园']],
    'pd2-059': [['高铁'], ['长沙'], ['张家界']],
    'pd2-060': [['个人所得税'], ['个税'], ['专项附加']],
}


def main(argv):
    qfiles = argv[1:] or [os.path.join(HERE, 'questions.jsonl')]
    meta, docs, files = load_docs()
    problems = []
    nphr = 0

    # documents
    listed = [m['file'] for m in meta]
    if sorted(listed) != files:
        problems.append(f'docs.jsonl {sorted(listed)} != docs/ {files}')
    print('== documents ==')
    for m in meta:
        n = len(re.findall(r'[\u4e00-\u9fff]', '\n'.join(docs[m['file']])))
        flag = '' if 2500 <= n <= 3500 else '  <-- out of range'
        if flag:
            problems.append(f"{m['file']} has {n:d} Chinese characters")
        print(f"  {m['file']:<45} {n:5d} chars  {len(docs[m['file']]):3d} paragraphs{flag}")

    for qf in qfiles:
        with open(qf, encoding='utf-8') as fh:
            qs = [json.loads(line) for line in fh if line.strip()]
        print(f'\n== {os.path.basename(qf)}: {len(qs):d} questions ==')
        seen = set()
        for q in qs:
            qid = q.get('qid')

            def bad(msg, qid=qid):
                problems.append(f'{qid}: {msg}')

            if list(q.keys()) != FIELDS:
                bad(f'fields {list(q.keys())}')
                continue
            if not re.fullmatch(r'pd2-\d{3}', qid) or qid in seen:
                bad('bad or duplicate qid')
            seen.add(qid)
            if q['kind'] not in KINDS:
                bad('kind {}'.format(q['kind']))
            if q['constraint'] not in CONSTRAINTS:
                bad('constraint {}'.format(q['constraint']))
            if (q['kind'] == 'unanswerable') == q['answerable']:
                bad('kind/answerable mismatch')
            if not q['answerable']:
                if q['evidence'] or q['facts'] or q['docs']:
                    bad('unanswerable with evidence/facts/docs')
                continue
            if not q['evidence'] or not q['facts'] or not q['docs']:
                bad('answerable without evidence/facts/docs')
                continue
            for f in q['docs']:
                if f not in docs:
                    bad(f'unknown doc {f}')
            qdocs = [f for f in q['docs'] if f in docs]
            contributes = set()
            for grp in q['evidence']:
                for ph in grp:
                    nphr += 1
                    if not (4 <= len(ph) <= 15) and ph not in NAME_OK:
                        bad(f'evidence phrase length {len(ph):d}: {ph}')
                hit = False
                for f in qdocs:
                    for para in docs[f]:
                        if all(ph in para for ph in grp):
                            hit = True
                            contributes.add(f)
                            break
                if not hit:
                    bad(f'evidence group not in one paragraph of a listed doc: {grp}')
            for f in qdocs:
                if f not in contributes:
                    bad(f'listed doc contributes no evidence group: {f}')
            full = {f: '\n'.join(docs[f]) for f in qdocs}
            for grp in q['facts']:
                if not grp:
                    bad('empty fact group')
                for alt in grp:
                    nphr += 1
                    if not any(alt in full[f] for f in qdocs):
                        bad(f'fact alternative not in listed docs: {alt}')
            if q['kind'] == 'cross-document':
                if len(q['facts']) != 2:
                    bad('cross-document needs exactly two fact groups')
                else:
                    # the two fact groups must be answerable from two different documents
                    src = [set(f for f in qdocs if any(a in full[f] for a in g))
                           for g in q['facts']]
                    if not any(a != b for a in src[0] for b in src[1]):
                        bad('cross-document facts not from two documents')

        kinds = Counter(q['kind'] for q in qs)
        print('\n  kind                 n')
        for k in KINDS:
            print(f'  {k:<20} {kinds.get(k, 0):2d}')
        cons_all = Counter(q['constraint'] for q in qs)
        cons_un = Counter(q['constraint'] for q in qs if not q['answerable'])
        print('\n  constraint       all  unanswerable')
        for c in CONSTRAINTS:
            print(f'  {c:<15} {cons_all.get(c, 0):4d}  {cons_un.get(c, 0):4d}')
        na = sum(1 for q in qs if q['answerable'])
        nu = len(qs) - na
        pct = 100.0 * nu / max(1, len(qs))
        print(f'\n  answerable {na:d}, unanswerable {nu:d} ({pct:.0f}%)')

        # review of unanswerable questions
        print('\n== review: paragraphs in ALL documents that match probes of unanswerable '
              'questions ==')
        for q in qs:
            if q['answerable']:
                continue
            print('\n[{}] {}   (constraint={})\n   note: {}'.format(
                q['qid'], q['question'], q['constraint'], q['note']))
            probes = PROBES.get(q['qid'])
            if probes is None:
                problems.append('{}: no probes defined'.format(q['qid']))
                continue
            any_hit = False
            for terms in probes:
                for f, paras in docs.items():
                    for para in paras:
                        if all(t in para for t in terms):
                            any_hit = True
                            i = para.find(terms[0])
                            snip = para[max(0, i - 40): i + 80]
                            print('   {} | {} | ...{}...'.format('+'.join(terms), f, snip))
            if not any_hit:
                print('   (no hits)')

    print('\n== summary ==')
    print(f'phrases checked: {nphr:d}')
    if problems:
        print(f'PROBLEMS: {len(problems):d}')
        for p in problems:
            print('  - ' + p)
        return 1
    print('no problems')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
