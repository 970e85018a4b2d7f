"""The page's stylesheet and scripts, kept apart from the Python that builds the page."""

# Badges, passage panel, chips. Injected into <head> by the panel component, so the app built
# by `build_app` is styled however it is launched (tests launch it themselves).
CSS = """
.qa-answer { line-height: 1.75; }
.qa-answer .cite { display: inline-block; min-width: 1.25em; padding: 0 .3em; margin: 0 1px;
  border-radius: .7em; background: #2563eb; color: #fff !important; font-size: .72em;
  font-weight: 600; line-height: 1.5; text-align: center; vertical-align: super;
  text-decoration: none !important; cursor: pointer; user-select: none; }
.qa-answer .cite:hover, .qa-answer .cite:focus { background: #1d4ed8; outline: none; }
.qa-panel-empty .cite { display: inline-block; padding: 0 .3em; border-radius: .7em;
  background: #2563eb; color: #fff; font-size: .72em; vertical-align: super; }
.qa-searched { color: #6b7280; font-size: .85em; margin-bottom: .35em; }
.qa-status { color: #6b7280; font-style: italic; }
.qa-srcs { margin-top: .6em; padding-top: .4em; border-top: 1px solid rgba(127,127,127,.25);
  font-size: .85em; }
.qa-src { cursor: pointer; padding: 1px 0; }
.qa-src:hover .qa-src-title { text-decoration: underline; }
.qa-src-n { color: #2563eb; font-weight: 600; margin-right: .3em; }
.qa-chip { display: inline-block; margin-left: .35em; padding: 0 .45em; border-radius: .6em;
  background: #fef3c7; color: #92400e; border: 1px solid #f59e0b; font-size: .78em;
  cursor: help; white-space: nowrap; }
.qa-notfound-msg { padding: .45em .7em; border-left: 4px solid #f59e0b; background: #fffbeb;
  color: #92400e; border-radius: 4px; }
.qa-near { margin-top: .5em; font-size: .88em; }
.qa-near summary { cursor: pointer; color: #374151; }
.qa-near ol { margin: .3em 0 0 1.2em; padding: 0; }
.qa-near li { margin: .25em 0; cursor: pointer; }
.qa-near .qa-snip { color: #4b5563; }
.qa-panel { padding: .8em 1em; border: 1px solid rgba(127,127,127,.3); border-radius: 8px; }
.qa-panel h3 { margin: 0 0 .3em 0; font-size: 1.05em; }
.qa-panel .qa-meta { color: #6b7280; font-size: .82em; margin-bottom: .4em; }
.qa-panel .qa-passage { white-space: pre-wrap; line-height: 1.8; font-size: .95em;
  max-height: 60vh; overflow-y: auto; }
.qa-panel mark { background: #fde047; color: #111827; padding: 0 1px; border-radius: 2px; }
.qa-error { color: #b91c1c; }
.qa-note { margin-top: .4em; padding: .3em .6em; border-left: 3px solid #9ca3af;
  color: #4b5563; font-size: .85em; }
.qa-mode { color: #6b7280; font-size: .8em; margin-bottom: .3em; }
.qa-answer .cite.qa-pending { background: #9ca3af; cursor: default; }
.qa-unverified { color: #9ca3af; text-decoration: line-through; }
.qa-unverified-mark { color: #b45309; font-size: .78em; margin-left: .2em; }
"""

# Runs when the panel mounts: one listener for every .qa-ref element, present or future
# (chat messages are re-rendered all the time). The reference is read from its classes
# qa-k-<kind> qa-t-<turn> qa-n-<n>.
CITE_JS = """
window.__qaCiteTrigger = trigger;
if (!window.__qaCiteBound) {
  window.__qaCiteBound = true;
  const ref = (e) => e.target && e.target.closest ? e.target.closest('.qa-ref') : null;
  const fire = (el) => {
    const get = (p) => { const c = [...el.classList].find((x) => x.startsWith(p));
                         return c ? c.slice(p.length) : null; };
    window.__qaCiteTrigger('click', {kind: get('qa-k-'), turn: get('qa-t-'), n: get('qa-n-')});
  };
  document.addEventListener('click', (e) => {
    const el = ref(e);
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    fire(el);
  }, true);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    const el = ref(e);
    if (el) { e.preventDefault(); fire(el); }
  }, true);
}
"""

# Asks before deleting; a cancelled dialog sends no id and the handler does nothing.
CONFIRM_DELETE_JS = ("(doc) => (doc && confirm('删除文档 ' + doc + '？此操作不可撤销。'))"
                     " ? doc : null")
