"""How the outbox relay weighs news of commits: its own process's word and the
database's notification of the same commit start one pass between them, in
whichever order they come."""
from services.common.outbox import OutboxRelay


def relay():
    return OutboxRelay(None, "things", "amqp://guest:guest@127.0.0.1:5672//", poll_interval=30)


def woken(r):
    return r._wake.is_set()


def a_pass(r, took=()):
    """What ``run`` does around one pass that takes ``took``."""
    r._begin_pass()
    r._took(took)
    r._end_pass()


def test_word_then_notification_before_the_pass_starts_one_pass():
    r = relay()
    r.committed(["7,8"])
    assert woken(r)
    r.heard(["7,8"])            # the notification, before the relay began to look
    a_pass(r, took=[7, 8])
    assert not woken(r)         # the pass saw both: no second one


def test_notification_after_the_pass_that_took_the_rows_starts_none():
    r = relay()
    r.committed(["7"])
    a_pass(r, took=[7])
    r.heard(["7"])
    assert not woken(r)
    assert r.notified == 1


def test_notification_first_then_word_during_the_pass_starts_no_second():
    r = relay()
    r.heard(["7"])
    assert woken(r)
    r._begin_pass()
    r.committed(["7"])          # the process's word, while the pass takes the row
    assert not woken(r)         # waits for the pass's end
    r._took([7])
    r._end_pass()
    assert not woken(r)


def test_news_during_a_pass_of_rows_it_did_not_take_starts_another():
    r = relay()
    r._begin_pass()
    r.committed(["9"])          # committed after the pass's look
    r._took([8])
    r._end_pass()
    assert woken(r)


def test_a_word_naming_nothing_or_garbage_always_looks():
    for news in ([], [""], ["x"]):
        r = relay()
        r._took([1, 2])
        r.committed(news)
        assert woken(r), news


def test_a_wake_heard_before_the_pass_is_cleared_with_it():
    r = relay()
    r.committed(["3"])
    r.committed(["4"])
    r.heard(["3", "4"])
    a_pass(r, took=[3, 4])
    assert not woken(r) and r.notified == 2


def test_taken_ids_are_remembered_only_so_far():
    r = relay()
    kept = r._taken.maxlen
    r._took(range(kept + 10))
    assert len(r._taken_set) == kept and 0 not in r._taken_set and kept + 9 in r._taken_set
    r.heard(["0"])              # forgotten: the relay looks again, to be safe
    assert woken(r)
