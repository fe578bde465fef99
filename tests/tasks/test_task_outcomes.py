"""Tasks judge real X input: the right control succeeds, a wrong one ends in failure."""

from __future__ import annotations

import pytest

from deskmimic.core.geometry import Rect


def mid(box: Rect) -> tuple[int, int]:
    return box.left + box.width // 2, box.top + box.height // 2


def click(inj, box: Rect) -> None:
    inj.click(*mid(box), duration=0.05)


def finished(qtbot, task, timeout: int = 5000) -> dict:
    qtbot.waitUntil(task.is_done, timeout=timeout)
    return task.result()


def seed_where(shown, name: str, predicate, seeds=range(60)):
    for seed in seeds:
        task = shown(name, seed)
        if predicate(task):
            return task
        task.close()
    pytest.fail(f"no seed of {name} satisfies the predicate")


def test_click_button_right_and_wrong(shown, inj, in_worker, qtbot) -> None:
    task = shown("click_button", 1)
    boxes = task.element_boxes()
    in_worker(lambda: click(inj, boxes[f"button:{task.target}"]))
    r = finished(qtbot, task)
    assert r["success"] and r["reward"] == 1.0 and r["steps"] == 1, r

    task = shown("click_button", 2)
    wrong = next(lab for lab in task.labels if lab != task.target)
    boxes = task.element_boxes()
    in_worker(lambda: click(inj, boxes[f"button:{wrong}"]))
    r = finished(qtbot, task)
    assert not r["success"] and r["reward"] == 0.0
    assert r["reason"] == f"clicked {wrong} instead of {task.target}"


def test_click_sequence_out_of_order_fails(shown, inj, in_worker, qtbot) -> None:
    task = shown("click_sequence", 4)
    first, second = task.sequence[0], task.sequence[1]
    boxes = task.element_boxes()
    in_worker(lambda: click(inj, boxes[f"button:{first}"]))
    qtbot.waitUntil(lambda: task.progress == 1)
    assert not task.is_done() and task.next_targets() == [f"button:{second}"]
    in_worker(lambda: click(inj, boxes[f"button:{first}"]))  # already done: ignored
    assert not task.is_done()
    wrong = next(lab for lab in task.labels if lab not in task.sequence[:2])
    in_worker(lambda: click(inj, boxes[f"button:{wrong}"]))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"clicked {wrong} when {second} was next"


def test_checkboxes_wrong_tick_and_missing_tick_fail(shown, inj, in_worker, qtbot) -> None:
    task = shown("checkboxes", 5)
    wrong = next(lab for lab in task.labels if lab not in task.targets)
    box = task.element_boxes()[f"checkbox:{wrong}"]
    in_worker(lambda: click(inj, box))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"ticked {wrong}, which was not asked for"

    task = seed_where(shown, "checkboxes", lambda t: len(t.targets) >= 2)
    boxes = task.element_boxes()
    in_worker(lambda: (click(inj, boxes[f"checkbox:{task.targets[0]}"]),
                       click(inj, boxes["button:Submit"])))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"].startswith("submitted without")
    assert task.targets[1] in r["reason"]


def test_type_field_wrong_text_or_field_fails(shown, inj, in_worker, qtbot) -> None:
    task = shown("type_field", 6)
    box = task.element_boxes()[f"field:{task.target}"]

    def wrong_text() -> None:
        click(inj, box)
        inj.type_text(task.text + "x", interval=0.01)
        inj.press("enter")

    in_worker(wrong_text)
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"].startswith(f"submitted {task.text + 'x'!r}")

    task = shown("type_field", 7)
    other = next(lab for lab in task.labels if lab != task.target)
    boxes = task.element_boxes()

    def wrong_field() -> None:
        click(inj, boxes[f"field:{other}"])
        inj.type_text(task.text, interval=0.01)
        click(inj, boxes["button:Submit"])

    in_worker(wrong_field)
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"submitted text in {other} as well"


def test_type_field_solved_by_hand(shown, inj, in_worker, qtbot) -> None:
    task = shown("type_field", 8)
    boxes = task.element_boxes()

    def solve() -> None:
        click(inj, boxes[f"field:{task.target}"])
        inj.type_text(task.text, interval=0.01)
        click(inj, boxes["button:Submit"])

    in_worker(solve)
    r = finished(qtbot, task)
    assert r["success"], r
    assert r["steps"] == 3  # click, type, click


def test_drag_onto_wrong_target_fails_nowhere_returns(shown, inj, in_worker, qtbot) -> None:
    task = shown("drag_item", 3)
    boxes = task.element_boxes()
    tile = task.tiles[task.item]
    home = tile.pos()
    region = task.region()
    # Dropped on empty space (just under the banner, left edge): the tile goes home.
    empty = (region.left + 4, region.top + task.banner_height + 4)
    in_worker(lambda: inj.drag(*mid(boxes[f"item:{task.item}"]), *empty, duration=0.3))
    qtbot.waitUntil(lambda: tile.pos() == home and task.dragging is None)
    assert not task.is_done()
    wrong = next(z for z in task.zones_names if z != task.target)
    in_worker(lambda: inj.drag(*mid(boxes[f"item:{task.item}"]), *mid(boxes[f"target:{wrong}"]),
                               duration=0.3))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"dropped {task.item} onto {wrong} instead of {task.target}"


def test_pick_list_wrong_entry_fails_in_list_and_combo(shown, inj, in_worker, qtbot) -> None:
    task = seed_where(shown, "pick_list", lambda t: t.mode == "list")
    wrong = next(e for e in task.entries if e != task.target)
    box = task.element_boxes()[f"entry:{wrong}"]
    in_worker(lambda: click(inj, box))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"picked {wrong} instead of {task.target}"

    task = seed_where(shown, "pick_list", lambda t: t.mode == "combo")
    in_worker(lambda: click(inj, task.element_boxes()["combo"]))
    qtbot.waitUntil(lambda: task.state()["popup_open"])
    wrong = next(e for e in task.entries if e != task.target)
    box = task.element_boxes()[f"entry:{wrong}"]
    in_worker(lambda: click(inj, box))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"picked {wrong} instead of {task.target}"
    qtbot.waitUntil(lambda: not task.combo.view().isVisible())


def test_scroll_find_wrong_entry_fails_and_wheel_scrolls(shown, inj, in_worker, qtbot) -> None:
    task = shown("scroll_find", 9)
    s = task.state()
    assert task.target not in s["visible"] and s["next"] == ["list"]
    list_box = s["boxes"]["list"]
    in_worker(lambda: inj.scroll(dy=-2, x=mid(list_box)[0], y=mid(list_box)[1]))
    qtbot.waitUntil(lambda: task.state()["first_visible"] == 6)  # 3 rows per wheel click
    wrong = task.state()["visible"][1]
    box = task.element_boxes()[f"entry:{wrong}"]
    in_worker(lambda: click(inj, box))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == f"clicked {wrong} instead of {task.target}"
    assert r["steps"] == 2  # one scroll burst, one click


@pytest.mark.parametrize("mistake", ["menu", "cancel"])
def test_workflow_wrong_menu_action_or_cancel_fails(shown, inj, in_worker, qtbot, mistake) -> None:
    task = shown("workflow", 2)
    in_worker(lambda: click(inj, task.element_boxes()[f"menu:{task.menu_title}"]))
    qtbot.waitUntil(lambda: task.menus[task.menu_title].isVisible())
    items = [a for a in task.actions_by_menu[task.menu_title]]
    pick = next(a for a in items if a != task.action_name) if mistake == "menu" else task.action_name
    box = task.element_boxes()[f"menuitem:{pick}"]
    in_worker(lambda: click(inj, box))
    if mistake == "menu":
        r = finished(qtbot, task)
        assert not r["success"] and r["reason"].startswith(f"chose {task.menu_title} \u203a {pick}")
        return
    qtbot.waitUntil(lambda: task.state()["dialog_open"])
    in_worker(lambda: click(inj, task.element_boxes()["button:Cancel"]))
    r = finished(qtbot, task)
    assert not r["success"] and r["reason"] == "cancelled the dialog"
    assert not task.dialog.isVisible()
