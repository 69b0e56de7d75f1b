"""Seventh-pass ranking screen (reports/model_selection.md, "Seventh pass: ranking"): one fed
logreg fit per variant on each inner backtest, the variant's columns appended to
`FlightFeatures("full")`'s matrix, the library's scaler and logreg settings; ROC-AUC only.
Exploration, not the protocol: a kept variant is then measured by benchmarks/backtests.py.

Usage: python benchmarks/ranking_screen.py VARIANT[,VARIANT...] [LAST_MONTHS]
  e.g. python benchmarks/ranking_screen.py lag_multi,lag_wide,yday,min_recent,multithreshold 8,10
Variants: lag_slot, lag_multi, lag_wide, lag_dow, ewm_slot, yday, spline_hour,
spline_hour_type, min_recent, rate15_sample, multithreshold, C=<value>; "none" prints the base.
issue-12rank2: recent_extra, oof_te; "a+b" fits variants together, "@cf=<C_flights>" with
C = C_flights / training flights (the base: the pipeline's own C unless SCREEN_C is set).
Eighth pass (issue-12rank; the base `full` now holds the time-of-day spline): drop_spline,
air_period, air_hour, air_spline, dest_period, intl_month, intl_season, intl_holiday, dom_intl,
lastday_n, l1=<C>, enet=<C>:<l1_ratio>.
Minutes (Fecha-O - Fecha-I) exist only in the shipped 20 % raw sample: the minute variants
use those flights only. The base is the current `full` set (round 1 of the seventh pass ran
on main's, before LAST_DAY_KEYS)."""

import os
import sys
import time
from functools import partial

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import SplineTransformer, StandardScaler

from latam_airlines.data.calendar import HOLIDAY_FEATURES
from latam_airlines.datasets import SCL_FEATURES, SCL_RAW_SAMPLE
from latam_airlines.models import TrainConfig
from latam_airlines.models.pipelines import make_pipeline
from latam_airlines.models.splits import holdout_split
from latam_airlines.models.training_data import training_data

M = 20.0  # the library's m-estimate smoothing


def day_number(frame):
    return (
        pd.to_datetime(dict(year=2017, month=frame["MES"], day=frame["DIA"])) - pd.Timestamp("1970-01-01")
    ).dt.days.to_numpy()


def attach_minutes(data):
    raw = pd.read_csv(SCL_RAW_SAMPLE, parse_dates=["Fecha-I", "Fecha-O"])
    raw["dif"] = (raw["Fecha-O"] - raw["Fecha-I"]).dt.total_seconds() / 60
    keys = ["MES", "DIA", "HORA", "MIN", "Des_I", "OPERA", "TIPOVUELO"]
    raw = raw.assign(
        MES=raw["Fecha-I"].dt.month,
        DIA=raw["Fecha-I"].dt.day,
        HORA=raw["Fecha-I"].dt.hour,
        MIN=raw["Fecha-I"].dt.minute,
        Des_I=raw["Des-I"],
    )
    raw["occ"] = raw.groupby(keys).cumcount()
    d = data.copy()
    d["occ"] = d.groupby(keys).cumcount()
    merged = d.merge(raw[keys + ["occ", "dif"]], on=keys + ["occ"], how="left")
    assert len(merged) == len(data)
    return merged["dif"].to_numpy()


def window_stat(keycodes, days, values, counted, width, prior):
    """m-smoothed mean of `values` over rows with `counted`, same key, days in [day-width, day)."""
    frame = pd.DataFrame(
        {"k": keycodes, "d": days, "v": np.where(counted, values, 0.0), "n": counted.astype(float)}
    )
    daily = frame.groupby(["k", "d"], sort=True)[["v", "n"]].sum().reset_index()
    daily["cv"] = daily.groupby("k")["v"].cumsum()
    daily["cn"] = daily.groupby("k")["n"].cumsum()

    def cum_before(day):  # cumulative sums over days < day
        q = pd.DataFrame({"k": keycodes, "d": day - 1, "i": np.arange(len(keycodes))}).sort_values("d")
        r = pd.merge_asof(
            q, daily[["k", "d", "cv", "cn"]].sort_values("d"), on="d", by="k", direction="backward"
        )
        r = r.sort_values("i")
        return r["cv"].fillna(0).to_numpy(), r["cn"].fillna(0).to_numpy()

    v1, n1 = cum_before(days)
    v0, n0 = cum_before(days - width)
    return ((v1 - v0) + M * prior) / ((n1 - n0) + M), (n1 - n0)


def last_occurrence(keycodes, days, y, prior, max_gap=7, alpha=None):
    """Share delayed on the key's most recent earlier day (within max_gap days), or an EWMA over
    its earlier days; returns (value, present flag)."""
    frame = pd.DataFrame({"k": keycodes, "d": days, "y": y})
    daily = frame.groupby(["k", "d"], sort=True)["y"].mean().reset_index()
    if alpha is not None:
        daily["y"] = daily.groupby("k")["y"].transform(lambda s: s.ewm(alpha=alpha).mean())
    q = pd.DataFrame({"k": keycodes, "d": days - 1, "i": np.arange(len(days))}).sort_values("d")
    r = pd.merge_asof(
        q,
        daily.rename(columns={"d": "dd"}).assign(d=lambda t: t["dd"]).sort_values("d"),
        on="d",
        by="k",
        direction="backward",
    ).sort_values("i")
    present = (~r["y"].isna()) & (
        (q.sort_values("i")["d"].to_numpy() + 1 - r["dd"].fillna(-1e9).to_numpy()) <= max_gap
    )
    return np.where(present, r["y"].to_numpy(), prior), present.to_numpy().astype(float)


def codes(frame, fields):
    if not fields:
        return np.zeros(len(frame), dtype=np.int64)
    return (
        frame[list(fields)]
        .astype(str)
        .agg("|".join, axis=1)
        .astype("category")
        .cat.codes.to_numpy()
        .astype(np.int64)
    )


# The base's C: SCREEN_C if set (0.5: main's before the eighth pass), else the pipeline's own
# (the full set's C_flights / training flights); a variant suffix "@cf=<value>" refits the
# variant with C = value / training flights (issue-12rank2).
BASE_C = float(os.environ.get("SCREEN_C", "nan"))


def fit_score(Xtr, ytr, Xte, C=None, **penalty):
    """The library's scaler and logreg (C BASE_C, balanced weights); `penalty` e.g. L1 / elastic net."""
    C = BASE_C if C is None else C
    scaler = StandardScaler().fit(Xtr)
    clf = LogisticRegression(C=C, max_iter=500, class_weight="balanced", random_state=42, **penalty).fit(
        scaler.transform(Xtr), ytr
    )
    return clf.decision_function(scaler.transform(Xte)), clf, scaler


def one_hot_combos(frame, fields, train_rows, min_count=30):
    """0/1 columns of the value combinations of `fields` with at least `min_count` training
    flights (rarer and unseen combinations: all zero)."""
    k = codes(frame, fields)
    values, counts = np.unique(k[train_rows], return_counts=True)
    kept = values[counts >= min_count]
    return (k[:, None] == kept[None, :]).astype(float)


def _add(context, name, cols, C=None, collect=None):
    """Append `cols` to the base matrix, refit, print ROC-AUC and its change (or, with
    `collect`, only gather the columns: a combined variant "a+b")."""
    if collect is not None:
        collect.extend(cols)
        return
    last, Xtr, Xte, y, tr, te, base = context
    cols = np.column_stack(cols)
    s, _, _ = fit_score(np.hstack([Xtr, cols[tr]]), y[tr], np.hstack([Xte, cols[te]]), C=C)
    a = roc_auc_score(y[te], s)
    print(last, name, round(a, 4), f"{a - base:+.4f}", flush=True)


def oof_encoding(keycodes, y, tr, te, prior, folds=5, seed=42):
    """m-estimate delay rate per key: out of fold on the training rows (5 folds), from every
    training row for the test rows."""
    from sklearn.model_selection import KFold

    out = np.full(len(keycodes), prior)

    def rates(rows, target):
        frame = pd.DataFrame({"k": keycodes[rows], "y": y[rows]}).groupby("k")["y"].agg(["sum", "count"])
        enc = (frame["sum"] + M * prior) / (frame["count"] + M)
        return pd.Series(keycodes[target]).map(enc).fillna(prior).to_numpy()

    for fit_rows, held in KFold(folds, shuffle=True, random_state=seed).split(tr):
        out[tr[held]] = rates(tr[fit_rows], tr[held])
    out[te] = rates(tr, te)
    return out


def main(variants, periods):
    data = pd.read_csv(SCL_FEATURES)
    data["dif"] = attach_minutes(data)
    for last in periods:
        part = data[data["MES"] <= last].reset_index(drop=True)
        config = TrainConfig(model="logreg", features="full", seed=42)
        inputs, y = training_data(part.drop(columns=["dif"]), config.year)
        tr, te = holdout_split(
            part,
            config.split,
            config.test_months,
            config.test_size,
            config.seed,
            last_months=config.last_months,
            year=config.year,
        )
        t = time.perf_counter()
        pipe = make_pipeline("logreg", y[tr], "full", None, None, 42, config.year)
        feats = pipe.named_steps["features"]
        global BASE_C
        if "SCREEN_C" not in os.environ:
            BASE_C = pipe.steps[-1][1].C
        print(last, "C", BASE_C, "training flights", len(tr), flush=True)
        Xtr = feats.fit_transform(inputs.iloc[tr], y[tr])
        feats.record_outcomes(inputs, y)
        Xte = feats.transform(inputs.iloc[te])
        base, clf, sc = fit_score(Xtr, y[tr], Xte)
        res = {"base": roc_auc_score(y[te], base)}
        print(last, "base", round(res["base"], 4), f"{time.perf_counter() - t:.0f}s", flush=True)
        days = day_number(part)
        prior = y[tr].mean()
        dif = part["dif"].to_numpy()
        has = ~np.isnan(dif)
        context = (last, Xtr, Xte, y, tr, te, res["base"])
        add = partial(_add, context)

        names = feats.get_feature_names_out()
        spline_cols = np.array([n.startswith("time_of_day_spline") for n in names])
        intl = (part["TIPOVUELO"] == "I").to_numpy()[:, None].astype(float)
        basis = np.vstack([Xtr, Xte])[:, spline_cols][:, : spline_cols.sum() // 2]
        order = np.concatenate([tr, te])
        spline = np.zeros((len(part), basis.shape[1]))
        spline[order] = basis  # back to the rows of `part`

        expanded = []
        for v in variants:  # "a+b@cf=60": the columns of a and b together, C 60 / training flights
            name, _, cf = v.partition("@cf=")
            C = float(cf) / len(tr) if cf else None
            if "+" in name or C is not None:
                collected = []
                for part_name in name.split("+"):
                    if part_name != "none":
                        expanded.append((part_name, partial(_add, context, collect=collected)))
                expanded.append(("__fit__", (v, collected, C)))
            else:
                expanded.append((v, add))
        for v, add in expanded:
            if v == "__fit__":
                name, collected, C = add
                if collected:
                    _add(context, name, collected, C=C)
                else:
                    s, _, _ = fit_score(Xtr, y[tr], Xte, C=C)
                    a = roc_auc_score(y[te], s)
                    print(last, name, round(a, 4), f"{a - res['base']:+.4f}", flush=True)
            elif v == "drop_spline":  # the base without the time-of-day block (main's `full`)
                s, _, _ = fit_score(Xtr[:, ~spline_cols], y[tr], Xte[:, ~spline_cols])
                a = roc_auc_score(y[te], s)
                print(last, v, round(a, 4), f"{a - res['base']:+.4f}", flush=True)
            elif v.startswith("knots="):  # the block with another number of uniform knots
                tod = (part["HORA"] * 60 + part["MIN"]).to_numpy()[:, None] / 1440.0
                knots = np.linspace(0, 1, int(v[6:]))[:, None]
                S = SplineTransformer(knots=knots, extrapolation="periodic").fit(knots).transform(tod)
                cols = np.hstack([S, S * intl])
                s, _, _ = fit_score(
                    np.hstack([Xtr[:, ~spline_cols], cols[tr]]),
                    y[tr],
                    np.hstack([Xte[:, ~spline_cols], cols[te]]),
                )
                a = roc_auc_score(y[te], s)
                print(last, v, round(a, 4), f"{a - res['base']:+.4f}", flush=True)
            elif v == "air_period":  # airline x period of day, one-hot
                add(v, [one_hot_combos(part, ["OPERA", "periodo_dia"], tr)])
            elif v == "air_hour":  # airline x hour, one-hot
                add(v, [one_hot_combos(part, ["OPERA", "HORA"], tr)])
            elif v == "air_spline":  # the time-of-day spline x each airline with >= 2000 training flights
                big = one_hot_combos(part, ["OPERA"], tr, 2000)
                add(v, [spline * big[:, [j]] for j in range(big.shape[1])])
            elif v == "dest_period":  # destination x period of day, one-hot
                add(v, [one_hot_combos(part, ["Des_I", "periodo_dia"], tr)])
            elif v == "intl_month":  # international x month, one-hot (unseen test months: zero)
                add(v, [one_hot_combos(part, ["MES"], tr, 1) * intl])
            elif v == "intl_season":  # international x high season
                add(v, [part["temporada_alta"].to_numpy()[:, None] * intl])
            elif v == "intl_holiday":  # the holiday features x international
                hol = np.array([n in HOLIDAY_FEATURES for n in names])
                block = np.zeros((len(part), hol.sum()))
                block[order] = np.vstack([Xtr, Xte])[:, hol]
                add(v, [block * intl])
            elif v == "dom_intl":  # periodic spline of the day of the month, and x international
                dom = (part["DIA"] - 1) / part["MES"].map(lambda m: pd.Period(f"2017-{m}").days_in_month)
                S = (
                    SplineTransformer(knots=np.linspace(0, 1, 6)[:, None], extrapolation="periodic")
                    .fit(np.linspace(0, 1, 6)[:, None])
                    .transform(dom.to_numpy()[:, None])
                )
                add(v, [S, S * intl])
            elif v == "lastday_n":  # slot / route x hour last-day share x log(1 + that day's flights)
                end = feats._history_end(feats.flight_days(inputs))
                fcodes = {f: feats._codes(inputs, f) for f in feats.vocabulary_}
                cols = []
                for key in [
                    ("OPERA", "Des_I", "HORA", "MIN"),
                    ("OPERA", "Des_I", "HORA"),
                    ("OPERA", "Des_I"),
                ]:
                    delayed, flights = feats.outcomes_[key].latest(feats._key(fcodes, key), end, 7)
                    share = np.where(flights > 0, delayed / np.maximum(flights, 1), prior)
                    cols += [np.log1p(flights), share * np.log1p(flights)]
                add(v, cols)
            elif v.startswith("l1="):
                s, _, _ = fit_score(Xtr, y[tr], Xte, C=float(v[3:]), penalty="l1", solver="liblinear")
                a = roc_auc_score(y[te], s)
                print(last, v, round(a, 4), f"{a - res['base']:+.4f}", flush=True)
            elif v.startswith("enet="):  # enet=C:l1_ratio
                c, ratio = (float(x) for x in v[5:].split(":"))
                s, _, _ = fit_score(Xtr, y[tr], Xte, C=c, penalty="elasticnet", solver="saga", l1_ratio=ratio)
                a = roc_auc_score(y[te], s)
                print(last, v, round(a, 4), f"{a - res['base']:+.4f}", flush=True)
            elif v == "lag_slot":
                cols = []
                for key in [("OPERA", "Des_I", "HORA", "MIN")]:
                    val, pres = last_occurrence(codes(part, key), days, y, prior)
                    cols += [val, pres]
                add(v, cols)
            elif v == "lag_multi":
                cols = []
                for key in [
                    ("OPERA", "Des_I", "HORA", "MIN"),
                    ("OPERA", "Des_I", "HORA"),
                    ("OPERA", "Des_I"),
                    ("OPERA", "HORA"),
                ]:
                    val, pres = last_occurrence(codes(part, key), days, y, prior)
                    cols += [val, pres]
                add(v, cols)
            elif v == "lag_wide":  # unsmoothed last day of SCL, airline, destination, type x airline
                cols = []
                for key in [(), ("OPERA",), ("Des_I",), ("OPERA", "TIPOVUELO")]:
                    val, pres = last_occurrence(codes(part, key), days, y, prior)
                    cols += [val]
                add(v, cols)
            elif v == "lag_dow":  # same slot, same weekday last week
                cols = []
                for key in [("OPERA", "Des_I", "HORA", "MIN"), ("OPERA", "Des_I", "HORA")]:
                    k = codes(part, key)
                    r, n = window_stat(k, days - 6, y.astype(float), np.ones(len(y), bool), 1, prior)
                    cols += [r, (n > 0).astype(float)]
                add(v, cols)
            elif v == "ewm_slot":
                cols = []
                for key in [("OPERA", "Des_I", "HORA", "MIN"), ("OPERA", "Des_I", "HORA")]:
                    for alpha in (0.3, 0.1):
                        val, pres = last_occurrence(
                            codes(part, key), days, y, prior, max_gap=10**6, alpha=alpha
                        )
                        cols += [val]
                add(v, cols)
            elif v == "yday":  # yesterday's rate (1-day windows): SCL, airline, route
                cols = []
                for key in [(), ("OPERA",), ("OPERA", "Des_I"), ("Des_I",)]:
                    r, _ = window_stat(
                        codes(part, key), days, y.astype(float), np.ones(len(y), bool), 1, prior
                    )
                    cols.append(r)
                add(v, cols)
            elif v in ("spline_hour", "spline_hour_type"):  # the latter adds spline x international
                tod = (part["HORA"] * 60 + part["MIN"]).to_numpy()[:, None] / 1440.0
                S = (
                    SplineTransformer(n_knots=9, degree=3, extrapolation="periodic")
                    .fit(tod[tr])
                    .transform(tod)
                )
                intl = (part["TIPOVUELO"] == "I").to_numpy()[:, None]
                add(v, [S] if v == "spline_hour" else [S, S * intl])
            elif v == "min_recent":  # minutes-based recent features, over the 20 % sample with minutes
                cols = []
                clip = np.clip(np.nan_to_num(dif), 0, 60) / 60
                pmin = clip[tr][has[tr]].mean()
                p5 = (dif[tr][has[tr]] > 5).mean()
                p30 = (dif[tr][has[tr]] > 30).mean()
                for key, w in [((), 7), ((), 28), (("OPERA",), 7), (("OPERA",), 28), (("Des_I",), 28)]:
                    k = codes(part, key)
                    cols.append(window_stat(k, days, clip, has, w, pmin)[0])
                    cols.append(window_stat(k, days, (np.nan_to_num(dif) > 5).astype(float), has, w, p5)[0])
                    cols.append(window_stat(k, days, (np.nan_to_num(dif) > 30).astype(float), has, w, p30)[0])
                add(v, cols)
            elif v == "rate15_sample":  # control: the >15 rate over the same 20 % sample
                cols = []
                for key, w in [((), 7), ((), 28), (("OPERA",), 7), (("OPERA",), 28), (("Des_I",), 28)]:
                    cols.append(
                        window_stat(
                            codes(part, key), days, (np.nan_to_num(dif) > 15).astype(float), has, w, prior
                        )[0]
                    )
                add(v, cols)
            elif v == "multithreshold":  # aux logregs on the sample rows with minutes, logits averaged
                str_ = has[tr]
                Xs = Xtr[str_]
                out = {}
                for thr in (5, 30):
                    ys = (dif[tr][str_] > thr).astype(int)
                    s, _, _ = fit_score(Xs, ys, Xte)
                    out[thr] = s
                    print(last, f"aux>{thr} alone", round(roc_auc_score(y[te], s), 4), flush=True)

                def z(s):
                    return (s - s.mean()) / s.std()

                for wts in [(1, 1, 1), (2, 1, 1), (1, 1, 0), (1, 0, 1)]:
                    comb = wts[0] * z(base) + wts[1] * z(out[5]) + wts[2] * z(out[30])
                    a = roc_auc_score(y[te], comb)
                    print(last, f"multithreshold w={wts}", round(a, 4), f"{a - res['base']:+.4f}", flush=True)
                from sklearn.linear_model import Ridge

                sr = StandardScaler().fit(Xs)
                rid = Ridge(alpha=10).fit(sr.transform(Xs), np.log1p(np.clip(dif[tr][str_], 0, 180)))
                rs = rid.predict(sr.transform(Xte))
                print(last, "ridge log-minutes alone", round(roc_auc_score(y[te], rs), 4), flush=True)
                for w in (0.5, 1.0):
                    a = roc_auc_score(y[te], z(base) + w * z(rs))
                    print(last, f"base+ridge w={w}", round(a, 4), f"{a - res['base']:+.4f}", flush=True)
            elif v == "recent_extra":  # hour 14 d, route 7 d, dest x hour 28 d, airline x dest x hour 28 d
                cols = []
                for key, w in [
                    (("HORA",), 14),
                    (("OPERA", "Des_I"), 7),
                    (("Des_I", "HORA"), 28),
                    (("OPERA", "Des_I", "HORA"), 28),
                ]:
                    r, _ = window_stat(
                        codes(part, key), days, y.astype(float), np.ones(len(y), bool), w, prior
                    )
                    cols.append(r)
                add(v, cols)
            elif v == "oof_te":  # airline x period x weekday, dest x period, airline x type x hour
                cols = [
                    oof_encoding(codes(part, key), y, tr, te, prior)
                    for key in [
                        ("OPERA", "periodo_dia", "DIANOM"),
                        ("Des_I", "periodo_dia"),
                        ("OPERA", "TIPOVUELO", "HORA"),
                    ]
                ]
                add(v, cols)
            elif v.startswith("C="):
                s, _, _ = fit_score(Xtr, y[tr], Xte, C=float(v[2:]))
                a = roc_auc_score(y[te], s)
                print(last, v, round(a, 4), f"{a - res['base']:+.4f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1].split(","), [int(p) for p in (sys.argv[2] if len(sys.argv) > 2 else "8,10").split(",")])
