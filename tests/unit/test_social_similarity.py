"""Similarity on a harder labelled set (distractors share words with the real matches), TF-IDF against a
rapidfuzz token_set_ratio baseline. Both are measured; TF-IDF must be at least as precise."""

from rapidfuzz import fuzz

from app.social.similar import rank_similar

# documents: (problem label, text) — "other" means not the same problem as any query
DOCUMENTS = [
    ("outage", "Broadband has been down since 7am, no internet at all in Leeds"),
    ("outage", "internet connection dead again, the router light is red, whole street is down"),
    ("outage", "Is there an outage in Leeds? Nothing loads since this morning"),
    ("outage", "Customer reports total loss of broadband service, area outage suspected"),
    ("double_charge", "You took two payments for the same October bill"),
    ("double_charge", "charged twice this month, I want my money back"),
    ("double_charge", "duplicate payment on my account, the bill was paid twice"),
    ("router_reboot", "router keeps restarting every hour, the new one does it too"),
    ("router_reboot", "the hub reboots by itself constantly, lights flash then it restarts"),
    ("delivery", "my new phone order never arrived, tracking says delivered"),
    ("delivery", "parcel marked as delivered but nothing came, where is my order"),
    ("other", "I want to upgrade my broadband to the faster fibre package"),
    ("other", "how do I pay my bill by direct debit"),
    ("other", "can I get a second router for upstairs?"),
    ("other", "great broadband speed since the engineer visit, thanks"),
    ("other", "please change the address on my account"),
    ("other", "what are your shop opening hours on Sunday"),
    ("other", "the TV box shows no picture on channel 4"),
    ("other", "my October bill is lower than usual, is that right?"),
    ("other", "I would like to order a new phone for my son"),
]
QUERIES = [
    ("outage", "@brand broadband down in Leeds, no internet since this morning!!"),
    ("double_charge", "Why was I charged twice for my October bill? Refund now"),
    ("router_reboot", "New router keeps rebooting every hour, useless"),
    ("delivery", "Order says delivered, no parcel. Where is my phone?"),
]


def _score(retrieve):
    tp = fp = fn = 0
    for label, query in QUERIES:
        got = retrieve(query)
        relevant = {i for i, (lab, _) in enumerate(DOCUMENTS) if lab == label}
        tp += len(got & relevant)
        fp += len(got - relevant)
        fn += len(relevant - got)
    precision = tp / (tp + fp) if tp + fp else 0.0
    return precision, tp / (tp + fn)


def _f1(scores):
    precision, recall = scores
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def test_tfidf_against_rapidfuzz_baseline():
    texts = [t for _, t in DOCUMENTS]
    tfidf = _score(lambda q: {m.index for m in rank_similar(q, texts)})  # the default threshold, cosine >= 0.2
    print(f"\nTF-IDF (cosine >= 0.2): precision {tfidf[0]:.2f} recall {tfidf[1]:.2f} F1 {_f1(tfidf):.2f}")
    best_fuzzy = 0.0
    for threshold in (40, 50, 60, 70):
        fuzzy = _score(lambda q, th=threshold: {i for i, t in enumerate(texts)
                                                if fuzz.token_set_ratio(q.lower(), t.lower()) >= th})
        best_fuzzy = max(best_fuzzy, _f1(fuzzy))
        print(f"rapidfuzz token_set_ratio >= {threshold}: precision {fuzzy[0]:.2f} recall {fuzzy[1]:.2f} "
              f"F1 {_f1(fuzzy):.2f}")
    assert tfidf[0] >= 0.75 and tfidf[1] >= 0.7
    assert _f1(tfidf) > best_fuzzy  # better than the baseline at its best threshold


def test_topic_clusters_group_the_labelled_documents():
    from app.social.similar import cluster_texts

    texts = [t for _, t in DOCUMENTS] + [q for _, q in QUERIES]
    labels = [lab for lab, _ in DOCUMENTS] + [lab for lab, _ in QUERIES]
    clusters = cluster_texts(texts, min_size=2)
    assert clusters, "expected at least one topic"
    purity = sum(max(sum(labels[i] == lab for i in c.members) for lab in set(labels)) for c in clusters) / sum(
        len(c.members) for c in clusters)
    print(f"\ntopic clusters: {len(clusters)}, purity {purity:.2f}, "
          + "; ".join(f"{'/'.join(c.label_terms)} ({len(c.members)})" for c in clusters))
    assert purity >= 0.7
    assert any({"broadband", "leed"} <= set(c.label_terms) or "broadband" in c.label_terms for c in clusters)
