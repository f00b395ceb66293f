"""course_lib.validation: errors name the argument, what was received and what was expected."""

import numpy as np
import pytest

from course_lib.validation import as_float_array, check_keys, check_shape, format_shape


def test_float_arrays_pass_through_unchanged():
    x = np.ones((2, 3), dtype=np.float32)
    assert as_float_array("X", x, ndim=2) is x
    assert as_float_array("X", [[1.0, 2.0]]).dtype == np.float64
    assert as_float_array("x", 1.5).shape == ()


@pytest.mark.parametrize("bad,dtype", [(np.ones(3, dtype=int), "int64"), (np.ones(3, dtype=bool), "bool"),
                                       (np.ones(3, dtype=complex), "complex128"), (["a", "b"], "<U1"),
                                       ([1, 2], "int64")])
def test_non_float_input_is_type_error(bad, dtype):
    expected = rf"X must be a floating-point array \(float32 or float64\); got dtype {dtype}"
    with pytest.raises(TypeError, match=expected):
        as_float_array("X", bad)


def test_none_and_tensors_are_type_errors():
    with pytest.raises(TypeError, match="H_0 must be a floating-point array.*got None"):
        as_float_array("H_0", None)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"X must be a NumPy array; got a Tensor.*\.detach\(\)\.numpy\(\)"):
        as_float_array("X", torch.zeros(2))


def test_wrong_rank_message():
    expected = r"^X must have 3 dimensions \(n, T, d\); got 2 dimensions with shape \(4, 5\)\.$"
    with pytest.raises(ValueError, match=expected):
        as_float_array("X", np.zeros((4, 5)), ndim=3, what="(n, T, d)")
    with pytest.raises(ValueError, match=r"b must have 1 dimension; got 0 dimensions with shape \(\)"):
        as_float_array("b", 1.0, ndim=1)


def test_check_shape_messages():
    check_shape("H_0", np.zeros((2, 4)), (2, 4))
    check_shape("X", np.zeros((2, 7, 4)), (None, None, 4))
    with pytest.raises(ValueError, match=r"^H_0 has shape \(3, 5\); expected \(2, 4\) = \(n, h\)\.$"):
        check_shape("H_0", np.zeros((3, 5)), (2, 4), what="(n, h)")
    with pytest.raises(ValueError, match=r"X has shape \(2, 7\); expected \(\*, \*, 4\) \(\* = any size\)"):
        check_shape("X", np.zeros((2, 7)), (None, None, 4))
    with pytest.raises(ValueError, match=r"b has shape \(3,\); expected \(4,\)"):
        check_shape("b", np.zeros(3), (4,))


def test_format_shape():
    assert format_shape((None, 4)) == "(*, 4)"
    assert format_shape((3,)) == "(3,)"
    assert format_shape(()) == "()"


def test_check_keys():
    check_keys("params", {"a": 1, "b": 2}, ["a", "b"])
    expected = r"params is missing key \['b'\]; expected exactly the keys \['a', 'b'\]\. Hint"
    with pytest.raises(ValueError, match=expected):
        check_keys("params", {"a": 1}, ["a", "b"], hint="Hint.")
    with pytest.raises(ValueError, match=r"params is missing key \['b'\] and has unexpected key \['c'\]"):
        check_keys("params", {"a": 1, "c": 3}, ["a", "b"])
    with pytest.raises(TypeError, match="params must be a dict of NumPy arrays; got list"):
        check_keys("params", [1, 2], ["a"])
