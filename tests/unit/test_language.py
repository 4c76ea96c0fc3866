"""Script-level language detection and the folding search and Chinese category rules rely on."""

from app.core.language import detect_language, fold, fold_aligned, index_text
from app.nlp import sentiment


def test_language_by_script_with_cantonese_markers():
    assert detect_language("我部router喺旺角成日斷線").code == "yue"
    assert detect_language("我的路由器在旺角经常断线").code == "zh"  # written Chinese, no Cantonese marker
    assert detect_language("my router keeps dropping").code == "en"
    assert detect_language("12345 👍").code is None
    mixed = detect_language("部 router 又斷線, please check the line asap")
    assert mixed.code == "en" and mixed.mixed  # 6 Latin words against 4 characters: both counted
    # two characters among thirteen English words: English, not code-switching
    assert not detect_language("thank you 多謝 for calling acme broadband today, have a nice day and goodbye").mixed


def test_folding_makes_traditional_simplified_and_fullwidth_one_form():
    assert fold("斷線 斷綫 断线") == "断线 断线 断线"
    assert fold("ｒｏｕｔｅｒ１２３") == "router123"
    assert fold("帳單") == fold("账单")
    # each character and each adjacent pair; 。 dropped, ， is the ASCII comma, spaces inside Chinese ignored
    assert index_text("旺角。斷 線，") == " 旺 旺角 角 \n 断 断线 线 ,"
    assert index_text("refund please") == "refund please"
    text = "部router斷綫咗"
    assert len(fold_aligned(text)) == len(text)


def test_sentiment_not_available_for_chinese():
    assert sentiment.score("呢個服務真係好差", "yue") is None
    assert sentiment.score("this service is terrible", "en") < 0
    summary = sentiment.summarize([("customer", None), ("customer", -0.5), ("agent", None)])
    assert summary.customer == -0.5 and summary.agent is None and summary.overall == -0.5
