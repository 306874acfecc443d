"""Segmentation on synthetic masks: specks, rules, frames, broken digits, lines, order."""

from __future__ import annotations

import cv2
import numpy as np

from digitedge.edge_runtime.blobs import Blob, SegmentConfig, reference_height, size_outliers
from digitedge.edge_runtime.segment import blob_mask, components, segment
from digitedge.edge_runtime.types import Box


def blank(shape: tuple[int, int] = (200, 300)) -> np.ndarray:
    return np.zeros(shape, np.uint8)


def digit(mask: np.ndarray, x: int, y: int, h: int = 40) -> None:
    """A '0'-like ring of height h with its top-left corner at (x, y)."""
    w = int(h * 0.6)
    cv2.ellipse(mask, (x + w // 2, y + h // 2), (w // 2 - 2, h // 2 - 2), 0, 0, 360, 255, 4)


def boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    return [tuple(b.box) for b in segment(mask).blobs]


def test_orders_left_to_right_and_groups_two_lines() -> None:
    mask = blank()
    for x in (160, 20, 90):  # drawn out of order on purpose
        digit(mask, x, 20)
    for x in (40, 110):
        digit(mask, x, 110)
    seg = segment(mask)
    assert seg.lines == (0, 0, 0, 1, 1)
    xs = [b.box.x for b in seg.blobs]
    assert xs[:3] == sorted(xs[:3]) and xs[3:] == sorted(xs[3:])
    assert all(b.box.y < 100 for b in seg.blobs[:3])


def test_gently_sloping_number_stays_one_line() -> None:
    mask = blank()
    for i in range(6):
        digit(mask, 10 + i * 45, 40 + i * 9)
    assert segment(mask).lines == (0,) * 6


def test_specks_and_ruled_lines_are_dropped() -> None:
    mask = blank()
    digit(mask, 30, 40)
    digit(mask, 100, 40)
    mask[150:153, 10:290] = 255  # a ruled line
    mask[20:22, 200:202] = 255  # specks
    mask[100:103, 250:253] = 255
    assert len(boxes(mask)) == 2


def test_page_edge_and_frame_around_digits_are_dropped() -> None:
    mask = blank()
    digit(mask, 60, 60)
    digit(mask, 120, 60)
    cv2.rectangle(mask, (40, 40), (200, 120), 255, 3)  # a box drawn round the number
    mask[:, :4] = 255  # the page edge along the left border
    got = boxes(mask)
    assert len(got) == 2 and all(h < 50 for _, _, _, h in got)


def test_a_ring_round_the_page_does_not_set_the_digit_height() -> None:
    # the shadowed rim of a sheet photographed whole: a ring around one small digit, clear
    # of the image border and under 70% of the frame, so `surround` does not take it; as
    # the digit height (315 px) it made the specks below count as clutter around the digit
    mask = blank((480, 640))
    cv2.rectangle(mask, (40, 90), (470, 400), 255, 4)
    for x, y in ((120, 150), (380, 170), (150, 350), (360, 330), (300, 120), (110, 250),
                 (400, 260), (250, 370)):
        mask[y:y + 6, x:x + 6] = 255  # specks of the paper's grain, far from the digit
    digit(mask, 240, 240, h=26)
    got = boxes(mask)
    assert len(got) == 1 and got[0][3] < 40


def test_the_rim_of_a_sheet_is_no_digit_but_a_close_up_zero_is() -> None:
    # a bright sheet on a dark table, seen as light ink, is a rectangular ring: all four
    # corners of its box inked, as no written digit's are
    mask = blank((480, 640))
    cv2.rectangle(mask, (120, 80), (560, 400), 255, 6)
    assert boxes(mask) == []
    zero = blank((480, 640))
    cv2.ellipse(zero, (320, 240), (120, 180), 0, 0, 360, 255, 25)
    assert len(boxes(zero)) == 1


def test_pieces_of_a_broken_digit_are_merged() -> None:
    mask = blank()
    # a '5' whose cap came apart from its body
    mask[40:44, 50:75] = 255
    cv2.ellipse(mask, (60, 70), (14, 14), 0, -120, 160, 255, 4)
    mask[47:60, 50:54] = 255
    digit(mask, 120, 40)
    seg = segment(mask)
    assert len(seg.blobs) == 2
    assert seg.blobs[0].box.y == 40 and len(seg.blobs[0].parts) == 2


def test_stacked_digits_on_two_lines_are_not_merged() -> None:
    mask = blank()
    digit(mask, 50, 20)
    digit(mask, 50, 68)  # 8 px below the first
    assert len(segment(mask).blobs) == 2


def test_blob_mask_excludes_neighbours_inside_the_box() -> None:
    mask = blank()
    digit(mask, 50, 50)
    mask[60:64, 40:48] = 255  # a speck that will not become a digit
    seg = segment(mask)
    crop = blob_mask(seg.labels, seg.blobs[0])
    assert crop.shape == (seg.blobs[0].box.h, seg.blobs[0].box.w)
    assert crop.sum() <= (mask > 0).sum() * 255


def test_empty_mask_gives_nothing() -> None:
    seg = segment(blank())
    assert seg.blobs == () and seg.lines == ()


def test_touching_digits_are_split_at_the_neck() -> None:
    mask = blank()
    digit(mask, 50, 50)
    digit(mask, 80, 50)
    mask[69:71, 70:84] = 255  # a pen stroke joins them: one component, two digits
    seg = segment(mask)
    assert len(seg.blobs) == 2 and seg.blobs[0].box.x == 50
    assert 70 <= seg.blobs[1].box.x <= 80  # the cut falls on the joining stroke


def test_a_wide_single_digit_is_not_split() -> None:
    mask = blank()
    # a broad '2', wider than tall, but every column crosses two or three strokes
    path = np.array([[40, 58], [60, 45], [92, 48], [98, 60], [45, 92], [104, 92]], np.int32)
    cv2.polylines(mask, [path], False, 255, 4)
    seg = segment(mask)
    assert len(seg.blobs) == 1 and seg.blobs[0].box.w > 1.25 * seg.blobs[0].box.h


def test_vertical_dashes_of_a_margin_line_are_not_ones() -> None:
    mask = blank((300, 300))
    digit(mask, 150, 130)
    digit(mask, 190, 130)
    for y in range(10, 290, 50):  # a margin line broken into dashes by the threshold
        mask[y:y + 35, 40:43] = 255
    assert [b.box.x for b in segment(mask).blobs] == [150, 190]


def test_blobs_in_texture_are_dropped() -> None:
    rng = np.random.default_rng(0)
    mask = blank((200, 400))
    digit(mask, 60, 80)
    digit(mask, 100, 80)
    for x, y in rng.integers(0, 110, (80, 2)):  # speckle around x 260-370: grain, fabric
        mask[45 + y:48 + y, 260 + x:263 + x] = 255
    digit(mask, 300, 80)  # a digit-like blob in the middle of that texture
    xs = [b.box.x for b in segment(mask).blobs]
    assert 60 in xs and 100 in xs and not any(x >= 250 for x in xs)


def test_scraps_of_a_cut_blob_are_not_clutter() -> None:
    mask = blank()
    for x in (60, 100, 140):
        digit(mask, x, 60)
    # a long flat stroke under the middle digit: `split_wide` cuts it into slivers that are
    # then dropped; they are writing, so the digit above them is no blob in texture
    mask[110:120, 90:150] = 255
    assert [b.box.x for b in segment(mask).blobs] == [60, 100, 140]


def test_two_way_split_offers_a_cut_for_a_squarish_blob_only() -> None:
    from digitedge.edge_runtime.splits import two_way_split

    mask = blank()
    mask[50:90, 40:44] = 255  # a '1' ...
    digit(mask, 52, 50)  # ... touching a '0' through a short stroke
    mask[69:71, 44:54] = 255
    seg = segment(mask)
    assert len(seg.blobs) == 1
    option = two_way_split(seg.labels, seg.blobs[0])
    assert option is not None
    (left_box, left), (right_box, right) = option
    assert left_box.x == 40 and left_box.w <= 12 and right_box.x >= 50  # cut on the bridge
    assert left.shape == (left_box.h, left_box.w) and right.any()
    narrow = blank()
    digit(narrow, 50, 50, h=40)  # one '0', narrower than a pair: no cut is offered
    one = segment(narrow)
    assert two_way_split(one.labels, one.blobs[0]) is None


def test_table_strip_along_a_sheet_edge_does_not_hide_the_digits() -> None:
    # a thick ragged strip along one side (more ink than the digits, not at the border)
    # would otherwise set the typical digit height and drop every real digit as too small
    mask = blank((240, 320))
    mask[20:220, 290:310] = 255
    for x in (60, 110, 160):
        digit(mask, x, 100, h=30)
    found = boxes(mask)
    assert len(found) == 3 and all(b[3] < 40 for b in found)


def test_blobs_inside_the_surround_are_not_digits() -> None:
    mask = blank()
    digit(mask, 40, 60)
    digit(mask, 200, 60)
    surround = np.zeros(mask.shape, bool)
    surround[:, 180:] = True  # e.g. the table beyond the page edge
    found = [tuple(b.box) for b in segment(mask, surround=surround).blobs]
    assert len(found) == 1 and found[0][0] < 100


def test_a_smudge_beside_a_pen_digit_is_dropped() -> None:
    mask = blank()
    digit(mask, 40, 60)
    cv2.ellipse(mask, (200, 80), (22, 9), 45, 0, 360, 255, -1)  # a filled, slanted smudge
    found = boxes(mask)
    assert len(found) == 1 and found[0][0] < 100


def test_a_blurred_bold_digit_beside_a_thin_one_is_no_smudge() -> None:
    mask = blank()
    mask[60:100, 40:43] = 255  # a thin "1" ...
    cv2.ellipse(mask, (72, 80), (14, 16), 0, 0, 360, 255, 12)  # ... and a 0 blur swelled
    assert [b.box.x for b in segment(mask).blobs] == [40, 52]


def test_a_row_of_ones_is_not_a_broken_margin_line() -> None:
    mask = blank((200, 300))
    for x in (60, 85, 110, 135):  # "1111": thin blobs side by side, not stacked
        mask[60:100, x:x + 4] = 255
    assert [b.box.x for b in segment(mask).blobs] == [60, 85, 110, 135]


def test_touching_digits_joined_by_a_faint_smear_are_split_by_their_cores() -> None:
    strength = blank()
    for x in (50, 90):  # two strong rings side by side ...
        cv2.ellipse(strength, (x + 15, 70), (14, 20), 0, 0, 360, 200, 5)
    strength[62:78, 76:92] = 70  # ... joined by a broad faint smear (blur between them)
    mask = np.where(strength > 0, 255, 0).astype(np.uint8)
    assert len(segment(mask).blobs) == 1  # one blob, no thin neck without the strength
    seg = segment(mask, strength=strength)
    left, right = (b.box for b in seg.blobs)
    assert left.x == 48 and left.x + left.w <= 88 and right.x >= 80  # cut in the smear
    assert all(whole is not None and whole.box.w == 75 for whole in seg.wholes)


def test_a_run_of_five_touching_digits_is_cut_not_dropped_as_a_rule() -> None:
    # blur joins a whole number into one blob over 3 times as wide as tall; it is as tall
    # as the digits, so it is writing, unlike the thin rule under it
    strength = blank((200, 400))
    for x in range(20, 200, 40):  # five strong rings in a row ...
        cv2.ellipse(strength, (x + 15, 70), (14, 20), 0, 0, 360, 200, 5)
    for x in range(46, 180, 40):
        strength[62:78, x:x + 16] = 70  # ... each joined to the next by a faint smear
    for x in (260, 320):
        cv2.ellipse(strength, (x + 15, 70), (14, 20), 0, 0, 360, 200, 5)
    strength[150:153, 20:380] = 200  # a ruled line
    mask = np.where(strength > 0, 255, 0).astype(np.uint8)
    xs = [b.box.x for b in segment(mask, strength=strength).blobs]
    assert len(xs) == 7 and xs[-2:] == [258, 318]


def test_two_small_digits_fused_by_blur_are_parted_by_a_tighter_threshold() -> None:
    from digitedge.edge_runtime.cores import core_mask
    from digitedge.edge_runtime.splits import core_pair

    strength = blank((24, 40))
    for cx in (9, 28):  # two small strong rings ...
        cv2.ellipse(strength, (cx, 12), (6, 9), 0, 0, 360, 200, 3)
    strength[6:19, 14:24] = np.maximum(strength[6:19, 14:24], 60)  # ... fused by a weak bridge
    got = core_pair(core_mask(strength, strength > 0), 100, 50)
    assert got is not None
    (left, _), (right, _) = got
    assert left.x <= 102 and left.x + left.w <= 118 and right.x >= 119 and left.h >= 18
    one = blank((24, 24))
    cv2.ellipse(one, (9, 12), (6, 9), 0, 0, 360, 200, 3)
    one[8:12, 16:22] = 200  # a ring with a short strong tail: a 9's stub, not a digit
    assert core_pair(core_mask(one, one > 0), 0, 0) is None


def test_core_split_refuses_to_cut_through_a_loop() -> None:
    from digitedge.edge_runtime.cores import core_split

    strength = blank((40, 60))
    # a wide '0' whose sides are inked more heavily than its top and bottom
    cv2.ellipse(strength, (30, 20), (26, 16), 0, 0, 360, 90, 4)
    strength[:, :12] = np.where(strength[:, :12] > 0, 220, 0)
    strength[:, 48:] = np.where(strength[:, 48:] > 0, 220, 0)
    assert core_split(strength, strength > 0) is None


def test_a_speck_of_board_in_a_chalk_digits_loop_does_not_make_it_a_frame() -> None:
    mask = blank()
    for x in (40, 90, 140):
        digit(mask, x, 60, h=60)
    mask[78:84, 100:106] = 255  # a dot of board showing through in the middle 0's loop
    assert [b.box.x for b in segment(mask).blobs] == [40, 90, 140]
    cv2.rectangle(mask, (25, 30), (195, 150), 255, 3)  # a box round them still is a frame
    assert [b.box.x for b in segment(mask).blobs] == [40, 90, 140]


def test_a_frame_round_a_digit_smaller_than_the_least_digit_height_is_still_a_frame() -> None:
    from digitedge.edge_runtime.blobs import drop_containers

    rim = Blob(Box(532, 93, 68, 132), (1,), 900)  # a board's bent rim round a lone "1" ...
    one = Blob(Box(547, 148, 22, 34), (2,), 200)  # ... under 0.4 of a height the rim set
    assert drop_containers([rim, one], min_inner=50) == [one]
    two = Blob(Box(188, 370, 57, 80), (3,), 1500)  # a chalk 2 ...
    speck = Blob(Box(206, 374, 13, 13), (4,), 60)  # ... and a speck of board in its loop
    assert drop_containers([two, speck], min_inner=30) == [two, speck]
    assert drop_containers([two, speck]) == [speck]  # every blob counts without a floor


def test_a_faint_blot_among_strong_digits_is_dropped() -> None:
    mask = blank()
    for x in (40, 90):
        digit(mask, x, 60)
    digit(mask, 200, 60)  # digit-shaped, but barely darker than the paper
    strength = np.where(mask > 0, 180, 0).astype(np.uint8)
    strength[:, 190:] //= 4
    assert [b.box.x for b in segment(mask, strength=strength).blobs] == [40, 90]
    assert len(segment(mask).blobs) == 3  # without the strength nothing is judged faint



def test_a_faded_digit_beside_the_writing_is_kept_but_a_blot_off_the_line_is_not() -> None:
    mask = blank()
    for x in (40, 90):
        digit(mask, x, 60)
    digit(mask, 140, 60)  # the line's faded end (chalk in a dim corner): 0.4 of the others
    digit(mask, 90, 140)  # just as faint, but under the line: nothing vouches for it
    strength = np.where(mask > 0, 180, 0).astype(np.uint8)
    strength[:, 135:] = strength[:, 135:] // 5 * 2
    strength[120:] = strength[120:] // 5 * 2
    assert [tuple(b.box)[:2] for b in segment(mask, strength=strength).blobs] == [
        (40, 60), (90, 60), (140, 60)]

def test_a_tighter_threshold_reopens_a_filled_loop() -> None:
    from digitedge.edge_runtime.cores import core_mask

    strength = blank((30, 24))
    cv2.ellipse(strength, (12, 15), (4, 6), 0, 0, 360, 200, 2)  # a small '0' ...
    strength = cv2.GaussianBlur(strength, (0, 0), 2.0)  # ... defocused: the hole fills in
    ys, xs = np.nonzero(strength >= 30)  # the blob's box, as the reader passes it
    strength = strength[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    own = strength >= 30
    _, holes = cv2.findContours(own.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    assert not (holes[0][:, 3] >= 0).any()  # thresholded low, the loop is a solid blob
    core = core_mask(strength, own)
    assert core is not None and not (core & ~own).any()
    _, holes = cv2.findContours(core.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    assert (holes[0][:, 3] >= 0).any()  # the tighter threshold opens it again


def test_two_sheet_edges_beside_a_lone_digit_do_not_set_its_size() -> None:
    # the strips of table along a sheet's left and right edges are long thin bands with
    # far more ink than one large digit: they must not make the digit a "speck"
    mask = blank((480, 640))
    mask[60:340, 120:146] = 255
    mask[60:345, 520:556] = 255
    digit(mask, 290, 200, h=90)
    found = boxes(mask)
    assert len(found) == 1 and 280 <= found[0][0] <= 300 and 80 <= found[0][3] <= 95


def test_long_bands_vote_on_the_digit_height_only_when_nothing_else_does() -> None:
    def blob(w: int, h: int, area: int) -> Blob:
        return Blob(Box(10, 10, w, h), (1,), area)

    digit_, bands = blob(60, 90, 1100), [blob(27, 272, 3300), blob(38, 285, 3700)]
    assert reference_height([digit_, *bands]) > 200  # area-weighted: the bands win
    assert reference_height([digit_, *bands], long_side=120) == 90
    # a lone close-up "1" (a long band too) still sets the height
    assert reference_height(bands[:1], long_side=120) == 272


def test_a_thick_narrow_digit_is_not_a_dot_but_a_round_blot_is() -> None:
    mask = blank((100, 200))
    for x in (20, 50):  # two thin-stroke digits set the typical height (20)
        cv2.rectangle(mask, (x, 40), (x + 11, 59), 255, 2)
    # a thick-marker 8 with its loops filled: 12 x 20, pinched waist, fill 0.8, no hole
    mask[40:60, 80:92] = 255
    mask[47:53, 80:84] = 0
    mask[47:53, 88:92] = 0
    # a roundish blot as tall as the digits: a 20 x 20 octagon, fill 0.79, no hole
    yy, xx = np.mgrid[0:20, 0:20]
    octagon = np.minimum(xx, 19 - xx) + np.minimum(yy, 19 - yy) >= 6
    mask[40:60, 120:140][octagon] = 255
    labels, blobs = components(mask)
    kept = sorted(b.box.x for b in size_outliers(labels, blobs, SegmentConfig()))
    assert kept == [19, 49, 80]


def test_a_small_digit_blur_filled_solid_is_kept_in_its_line_but_not_alone() -> None:
    mask = blank((100, 200))
    for x in (20, 40):  # two thin-stroke digits set the typical height (20)
        cv2.rectangle(mask, (x, 40), (x + 11, 59), 255, 2)
    mask[40:60, 58:70] = 255  # a blurred 8 that fills its box, right after them
    mask[40:60, 150:162] = 255  # the same solid block far from the writing: a sticker
    labels, blobs = components(mask)
    kept = sorted(b.box.x for b in size_outliers(labels, blobs, SegmentConfig()))
    assert kept == [19, 39, 58]


def test_a_faint_digit_broken_across_its_middle_is_merged() -> None:
    mask = blank((200, 300))
    for x in (20, 80):  # two whole digits set the typical height (40)
        digit(mask, x, 60)
    # the third broke into a top and a bottom half, each wider than tall, 7 px apart
    cv2.ellipse(mask, (172, 72), (12, 10), 0, 180, 360, 255, 3)
    cv2.ellipse(mask, (172, 84), (12, 10), 0, 0, 180, 255, 3)
    found = boxes(mask)
    assert len(found) == 3
    x, y, w, h = found[2]
    assert x >= 150 and h >= 30


def test_a_lifted_flag_beside_a_digit_top_is_merged_but_a_dash_is_not() -> None:
    mask = blank((200, 300))
    for x in (20, 80):
        digit(mask, x, 60)
    # a "5" written in two strokes: the body, and its flag lifted off at the top right
    cv2.line(mask, (152, 62), (152, 78), 255, 3)
    cv2.ellipse(mask, (158, 88), (9, 11), 0, -120, 160, 255, 3)
    cv2.line(mask, (168, 62), (180, 62), 255, 3)
    # a dash at mid height just beside a digit is not part of it
    cv2.ellipse(mask, (214, 80), (9, 18), 0, 0, 360, 255, 3)
    cv2.line(mask, (229, 80), (243, 80), 255, 3)
    found = boxes(mask)
    five = [b for b in found if 140 <= b[0] <= 160]
    assert len(five) == 1 and five[0][0] + five[0][2] >= 180
    zero = [b for b in found if 200 <= b[0] <= 210]
    assert len(zero) == 1 and zero[0][0] + zero[0][2] < 227


def test_a_one_above_a_pair_of_ones_is_not_a_margin_line() -> None:
    # "1" over "11": three thin blobs in one column, but on two lines, not three
    mask = blank((240, 300))
    digit(mask, 40, 30)
    for x, y in ((100, 30), (96, 120), (112, 120)):
        cv2.line(mask, (x, y), (x, y + 40), 255, 5)
    digit(mask, 150, 120)
    found = boxes(mask)
    assert len(found) == 5


def test_a_row_of_digits_sets_the_height_not_a_big_shape_beside_it() -> None:
    # two small digits side by side and the outline of a finger tip (a big open arc with
    # more ink than both): the row is the writing, the arc must not make its digits specks
    mask = blank((480, 640))
    digit(mask, 300, 100, h=30)
    digit(mask, 325, 100, h=30)
    cv2.ellipse(mask, (480, 400), (80, 90), 0, 180, 360, 255, 8)
    found = boxes(mask)
    assert [b[0] for b in found if b[3] <= 35] == [300, 325]
    # a lone digit has no row: the shapes vote by ink as before (nothing tells which is
    # the writing), so that a few specks in a row cannot outvote a big digit
    single = [Blob(Box(300, 100, 18, 30), (1,), 300), Blob(Box(400, 300, 160, 90), (2,), 2200),
              Blob(Box(100, 50, 20, 30), (3,), 250)]
    assert reference_height(single, long_side=120) == 90
    row = [*single[:2], Blob(Box(322, 101, 18, 30), (3,), 280)]
    assert reference_height(row, long_side=120) == 30
    assert reference_height(row) == 90  # only when asked (as size_outliers and segment do)


def test_a_smear_wider_and_fainter_than_the_writing_is_dropped() -> None:
    mask = blank()
    for x in (40, 90):
        digit(mask, x, 60)
    cv2.ellipse(mask, (200, 80), (16, 6), 60, 0, 360, 255, -1)  # a graphite smear
    strength = np.where(mask > 0, 180, 0).astype(np.uint8)
    assert len(segment(mask, strength=strength).blobs) == 3  # as dark: a bold stroke
    strength[:, 170:] = strength[:, 170:] // 5 * 3  # 60 %: not faint enough for faint_blobs
    assert [b.box.x for b in segment(mask, strength=strength).blobs] == [40, 90]


def test_a_bold_digit_in_dim_light_beside_the_writing_is_no_smear() -> None:
    mask = blank()
    for x in (40, 90):
        digit(mask, x, 60)
    cv2.ellipse(mask, (152, 80), (10, 18), 0, 0, 360, 255, 10)  # a bold 0 next to them ...
    strength = np.where(mask > 0, 180, 0).astype(np.uint8)
    strength[:, 135:] = strength[:, 135:] // 5 * 3  # ... in a dimmer patch: wider, lighter
    assert [b.box.x for b in segment(mask, strength=strength).blobs] == [40, 90, 137]
