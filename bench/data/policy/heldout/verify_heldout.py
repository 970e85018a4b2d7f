"""Verify held-out questions against held-out documents.
Usage: python check_heldout.py /work/main/bench/data/policy/heldout
Checks: every evidence phrase and every fact alternative occurs verbatim in the
visible text of a document named in `docs` (Traditional converted to Simplified);
all phrases of an evidence group co-occur within one paragraph of one doc;
unanswerable questions have empty evidence/facts/docs; absence probes for traps."""
import collections
import json
import os
import re
import sys

import docx
from bs4 import BeautifulSoup
from opencc import OpenCC

root = sys.argv[1]
t2s = OpenCC('t2s')

def doc_paragraphs(path):
    if path.endswith('.docx'):
        d = docx.Document(path)
        paras = [p.text for p in d.paragraphs]
        for t in d.tables:
            for r in t.rows:
                paras.extend(c.text for c in r.cells)
        return paras
    with open(path, encoding='utf-8') as fh:
        raw = fh.read()
    if path.endswith('.html'):
        soup = BeautifulSoup(raw, 'html.parser')
        for t in soup(['script', 'style', 'head']):
            t.decompose()
        blocks = []
        for el in soup.find_all(['p', 'li', 'h1', 'h2', 'h3', 'h4', 'td', 'th', 'span', 'caption']):
            if el.find(['p', 'li', 'td']) is None:
                blocks.append(el.get_text())
        blocks.append(soup.get_text('\n'))
        return blocks
    # txt / md: paragraphs separated by blank lines or indentation; also
    # a joined form where PDF-style hard line breaks are kept (verbatim check
    # is done on the raw text, so phrases may not straddle a line break)
    return re.split(r'\n\s*\n|\n(?=　　|    |- |\* |> |#)', raw)

def full_text(path):
    if path.endswith('.docx'):
        return '\n'.join(doc_paragraphs(path))
    with open(path, encoding='utf-8') as fh:
        raw = fh.read()
    if path.endswith('.html'):
        soup = BeautifulSoup(raw, 'html.parser')
        for t in soup(['script', 'style', 'head']):
            t.decompose()
        return soup.get_text('\n')
    return raw

docdir = os.path.join(root, 'docs')
files = sorted(os.listdir(docdir))
TEXT = {f: t2s.convert(full_text(os.path.join(docdir, f))) for f in files}
PARAS = {f: [t2s.convert(p) for p in doc_paragraphs(os.path.join(docdir, f))] for f in files}

with open(os.path.join(root, 'questions.jsonl'), encoding='utf-8') as fh:
    qs = [json.loads(line) for line in fh]
with open(os.path.join(root, 'docs.jsonl'), encoding='utf-8') as fh:
    catalog = [json.loads(line) for line in fh]
errors = []
n_phr = 0
assert sorted(c['file'] for c in catalog) == files, 'catalog/docs mismatch'
KEYS = ["qid", "question", "kind", "evidence", "facts", "answerable", "docs", "constraint", "note"]
for q in qs:
    if list(q.keys()) != KEYS:
        errors.append((q.get('qid'), 'bad keys', list(q.keys())))
    for d in q['docs']:
        if d not in TEXT:
            errors.append((q['qid'], 'unknown doc', d))
    if not q['answerable']:
        if q['evidence'] or q['facts'] or q['docs']:
            errors.append((q['qid'], 'unanswerable with evidence/facts/docs'))
        if q['kind'] != 'unanswerable':
            errors.append((q['qid'], 'kind should be unanswerable'))
        continue
    docs = [d for d in q['docs'] if d in TEXT]
    for g in q['evidence']:
        for ph in g:
            n_phr += 1
            if not any(ph in TEXT[d] for d in docs):
                errors.append((q['qid'], 'evidence phrase not found', ph))
            if not (4 <= len(ph) <= 15):
                errors.append((q['qid'], 'evidence phrase length', ph, len(ph)))
        if not any(all(ph in p for ph in g) for d in docs for p in PARAS[d]):
            errors.append((q['qid'], 'evidence group not within one paragraph', g))
    for g in q['facts']:
        for alt in g:
            n_phr += 1
            if not any(alt in TEXT[d] for d in docs):
                errors.append((q['qid'], 'fact not found', alt))
    if q['kind'] == 'cross-document':
        # one fact group per document: fact group i must be found in docs[i]
        for i, g in enumerate(q['facts']):
            if not any(alt in TEXT[docs[i]] for alt in g):
                errors.append((q['qid'], 'cross-doc fact group not in its doc', i))

# absence probes for the unanswerable traps (string must not occur in the named files; '*' = all)
ABSENT = [
    ('*', '2022年地区生产总值'), ('*', '2022年全市'),
    ('2024年南充市国民经济和社会发展统计公报.html', '5G'),
    ('2023年南充市国民经济和社会发展统计公报_统计公报_南充市统计局.html', '新能源汽车'),
    ('西充县2024年国民经济和社会发展统计公报.txt', '2023年粮食'),
    ('天水市2025年政府工作报告.docx', '2023年'), ('天水市2025年政府工作报告.docx', '2026'),
    ('十四五全国县域富民产业发展规划.md', '2030'),
    ('*', '南部县'), ('*', '营山'), ('*', '兰州'), ('*', '韶关市2025'),
    ('乳源瑶族自治县2025年政府工作报告.docx', '韶关市'),
    ('*', '四川省2024'), ('*', '全省城镇居民'),
    ('2024年南充市国民经济和社会发展统计公报.html', '规模以上工业增加值7'),
    ('西充县2024年国民经济和社会发展统计公报.txt', '人均地区生产总值'),
    ('西充县2024年国民经济和社会发展统计公报.txt', '全体居民'),
    ('*', '百县千人'), ('*', '启航计划'), ('*', '现代农业产业园'+'100'),
    ('天水市2025年度城乡居民医保参保缴费政策问答_天水市医疗保障局.html', '费率'),
    ('天水市2025年度城乡居民医保参保缴费政策问答_天水市医疗保障局.html', '单位缴费'),
    ('*', '公积金'), ('*', '专项附加扣除'),
]
n_abs = 0
for f, s in ABSENT:
    for d in (files if f == '*' else [f]):
        n_abs += 1
        if s in TEXT[d]:
            errors.append(('ABSENT-PROBE', d, s))
# manual context probes: print every occurrence for review
PROBE = [('2024年南充市国民经济和社会发展统计公报.html', '房地产开发投资'),
         ('2024年南充市国民经济和社会发展统计公报.html', '规模以上工业增加值'),
         ('乳源瑶族自治县2025年政府工作报告.docx', '固定资产投资'),
         ('乳源瑶族自治县2025年政府工作报告.docx', '旅游'),
         ('天水市2025年政府工作报告.docx', '规模以上工业增加值'),
         ('十四五全国县域富民产业发展规划.md', '现代农业产业园'),
         ('十四五全国县域富民产业发展规划.md', '乡村工匠'),
         ('十四五全国县域富民产业发展规划.md', '计划'),
         ('韶關市飲用水水源保護條例.txt', '广东省')]
if '-v' in sys.argv:
    for f, s in PROBE:
        for m in re.finditer(re.escape(s), TEXT[f]):
            print('PROBE', f[:12], '|', TEXT[f][max(0, m.start()-30):m.end()+30].replace('\n', ' '))

by_kind = collections.Counter(q['kind'] for q in qs)
by_con = collections.Counter(q['constraint'] for q in qs)
un = sum(1 for q in qs if not q['answerable'])
print('documents:', len(files))
print('questions:', len(qs), 'answerable:', len(qs) - un, 'unanswerable:', un,
      '(%.1f%%)' % (100.0 * un / len(qs)))
print('by kind:', dict(by_kind))
print('by constraint:', dict(by_con))
print('unanswerable by constraint:',
      dict(collections.Counter(q['constraint'] for q in qs if not q['answerable'])))
print('phrases checked (evidence + fact alternatives):', n_phr, '; absence probes:', n_abs)
print('failures:', len(errors))
for e in errors:
    print('  FAIL', e)
