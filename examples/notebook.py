"""A notebook-style tour of the Python API: run one paper, look at its table, its verdicts and
its figure.  Run it as a script (python examples/notebook.py) or paste the cells into Jupyter."""
# %% which papers and claims are there
import theorycheck

for e in theorycheck.experiments():
    print(e["name"], "-", len(e["claims"]), "claims")

# %% run one paper's quick configuration (cached in the user cache)
result = theorycheck.run("penalty-bilevel", mode="quick", seed=0)
frame = result.frame                      # the tidy table, one row per recorded point
print(frame.groupby("metric")["value"].describe())

# %% the verdicts: every claim with its negative controls
print(result.summary())
assert result.holds

# %% the paper-style figure (your matplotlib settings are left untouched)
fig = result.figure()
fig.savefig("penalty-bilevel.png", dpi=150)
