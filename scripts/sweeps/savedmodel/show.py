"""Print conversion / run errors from results.json (venv or any python)."""
import json, sys
r = json.load(open(__file__.rsplit('/', 1)[0] + '/results.json'))
for n, v in sorted(r.items()):
    if sys.argv[1:] and not any(w in n for w in sys.argv[1:]):
        continue
    if 'crash' in v:
        print(n, 'CRASH', v['crash'][-400:]); continue
    for mode in ('float', 'dr'):
        f = v.get(mode, {})
        if f.get('convert') == 'error' and mode == 'float':
            e = f['error']; print(n, '| CONVERT', e['type'], e['where'], '|', e['msg'][:260].replace('\n', ' '))
        for w in ('tinylite', 'litert'):
            if '#run_error' in f.get(w, {}):
                e = f[w]['#run_error']; print(n, mode, w, 'RUN', e['type'], '|', e['msg'][:300].replace('\n', ' '))
