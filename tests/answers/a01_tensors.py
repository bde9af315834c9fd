"""Answer variants for assignments/01-tensors (see README.md in this folder).

Each entry replaces the answer cell of one question: "wrong" ones must lose points on it,
"right" ones must earn full points.
"""

Q1_RIGHT = """
scalar = torch.tensor(7)
vector = torch.tensor([4, 5, 6])
matrix = torch.tensor([[1, 2], [3, 4], [5, 6]])
tensor3 = torch.tensor([[[1, 2, 3], [4, 5, 6]]])
tensor3_ndim = tensor3.ndim
tensor3_shape = tensor3.shape
"""

VARIANTS = {
    "q1": {
        "wrong": {
            "scalar wrapped in brackets (a vector)": Q1_RIGHT.replace(
                "scalar = torch.tensor(7)", "scalar = torch.tensor([7])"),
            "tensor3 missing the outer brackets (a matrix)": Q1_RIGHT.replace(
                "tensor3 = torch.tensor([[[1, 2, 3], [4, 5, 6]]])",
                "tensor3 = torch.tensor([[1, 2, 3], [4, 5, 6]])"),
            "floats instead of integers": Q1_RIGHT.replace(
                "vector = torch.tensor([4, 5, 6])", "vector = torch.tensor([4.0, 5.0, 6.0])"),
            "matrix written by columns": Q1_RIGHT.replace(
                "matrix = torch.tensor([[1, 2], [3, 4], [5, 6]])",
                "matrix = torch.tensor([[1, 3, 5], [2, 4, 6]])"),
            "number of elements instead of ndim": Q1_RIGHT.replace(
                "tensor3_ndim = tensor3.ndim", "tensor3_ndim = tensor3.numel()"),
        },
        "right": {
            "built with arange and reshape": """
scalar = torch.tensor(7)
vector = torch.arange(4, 7)
matrix = torch.arange(1, 7).reshape(3, 2)
tensor3 = torch.arange(1, 7).reshape(1, 2, 3)
tensor3_ndim = tensor3.dim()
tensor3_shape = tuple(tensor3.size())
""",
        },
    },
    "q2": {
        "wrong": {
            "forgot the seeds": """
random_tensor = torch.rand(3, 4)
image = torch.rand(size=(3, 28, 28))
""",
            "seeded once with 42 for both": """
torch.manual_seed(42)
random_tensor = torch.rand(3, 4)
image = torch.rand(size=(3, 28, 28))
""",
            "image in height, width, channels layout": """
torch.manual_seed(42)
random_tensor = torch.rand(3, 4)
torch.manual_seed(7)
image = torch.rand(size=(28, 28, 3))
""",
            "normal instead of uniform (randn)": """
torch.manual_seed(42)
random_tensor = torch.randn(3, 4)
torch.manual_seed(7)
image = torch.randn(3, 28, 28)
""",
            "seed set after the draw": """
random_tensor = torch.rand(3, 4)
torch.manual_seed(42)
image = torch.rand(3, 28, 28)
torch.manual_seed(7)
""",
        },
        "right": {
            "random.manual_seed and tuple sizes": """
torch.random.manual_seed(42)
random_tensor = torch.rand((3, 4))
torch.random.manual_seed(7)
image = torch.rand(3, 28, 28)
""",
            "seeded generators": """
random_tensor = torch.rand(3, 4, generator=torch.Generator().manual_seed(42))
image = torch.rand(size=(3, 28, 28), generator=torch.Generator().manual_seed(7))
""",
        },
    },
    "q3": {
        "wrong": {
            "arange without the step": """
zeros = torch.zeros(3, 4)
ones = torch.ones(2, 3)
odds = torch.arange(1, 10)
odds_zeros = torch.zeros_like(odds)
""",
            "zeros instead of zeros_like (float32, not int64)": """
zeros = torch.zeros(3, 4)
ones = torch.ones(2, 3)
odds = torch.arange(1, 11, 2)
odds_zeros = torch.zeros(5)
""",
            "arange with float arguments": """
zeros = torch.zeros(3, 4)
ones = torch.ones(2, 3)
odds = torch.arange(1.0, 11.0, 2.0)
odds_zeros = torch.zeros_like(odds)
""",
            "ones with the shape transposed": """
zeros = torch.zeros(3, 4)
ones = torch.ones(3, 2)
odds = torch.arange(1, 11, 2)
odds_zeros = torch.zeros_like(odds)
""",
            "ones_like instead of zeros_like": """
zeros = torch.zeros(3, 4)
ones = torch.ones(2, 3)
odds = torch.arange(1, 11, 2)
odds_zeros = torch.ones_like(odds)
""",
        },
        "right": {
            "keyword arguments and explicit dtype": """
zeros = torch.zeros(size=(3, 4))
ones = torch.ones(size=(2, 3), dtype=torch.float32)
odds = torch.arange(start=1, end=10, step=2)
odds_zeros = torch.zeros(odds.shape, dtype=odds.dtype)
""",
        },
    },
    "q4": {
        "wrong": {
            "device object instead of its type": """
def describe(t):
    return (t.dtype, t.shape, t.device)
""",
            "size method not called": """
def describe(t):
    return (t.dtype, t.size, t.device.type)
""",
            "type() string instead of dtype": """
def describe(t):
    return (t.type(), t.shape, t.device.type)
""",
            "hard-coded for the example tensor": """
def describe(t):
    return (torch.float32, (2, 3), "cpu")
""",
            "device type always cpu": """
def describe(t):
    return (t.dtype, tuple(t.shape), "cpu")
""",
            "number of elements instead of shape": """
def describe(t):
    return (t.dtype, (t.numel(),), t.device.type)
""",
            "str(device): 'cuda:0' on a GPU, not the type": """
def describe(t):
    return t.dtype, t.shape, str(t.device)
""",
        },
        "right": {
            "size() and the device split at its index": """
def describe(t):
    dtype = t.dtype
    shape = tuple(t.size())
    return dtype, shape, str(t.device).split(":")[0]
""",
            "torch.device(...).type": """
def describe(t):
    return t.dtype, torch.Size(t.shape), torch.device(t.device).type
""",
        },
    },
    "q5": {
        "wrong": {
            "float64 (double) instead of float16 (half)": """
prices = torch.tensor([1.5, 2.25, 3.75])
counts = torch.tensor([1, 2, 3])
prices_half = prices.type(torch.float64)
prices_int = prices.type(torch.int64)
counts_float = counts.type(torch.float32)
""",
            "rounded instead of truncated": """
prices = torch.tensor([1.5, 2.25, 3.75])
counts = torch.tensor([1, 2, 3])
prices_half = prices.type(torch.float16)
prices_int = prices.round().type(torch.int64)
counts_float = counts.type(torch.float32)
""",
            "int32 instead of int64": """
prices = torch.tensor([1.5, 2.25, 3.75])
counts = torch.tensor([1, 2, 3])
prices_half = prices.type(torch.float16)
prices_int = prices.type(torch.int32)
counts_float = counts.type(torch.float32)
""",
            "cast result not kept": """
prices = torch.tensor([1.5, 2.25, 3.75])
counts = torch.tensor([1, 2, 3])
prices.type(torch.float16)
prices_half = prices
prices_int = prices.type(torch.int64)
counts.type(torch.float32)
counts_float = counts
""",
        },
        "right": {
            "half(), long(), float()": """
prices = torch.tensor([1.5, 2.25, 3.75])
counts = torch.tensor([1, 2, 3])
prices_half = prices.half()
prices_int = prices.long()
counts_float = counts.float()
""",
            "to(dtype=...)": """
prices = torch.tensor([1.5, 2.25, 3.75])
counts = torch.tensor([1, 2, 3])
prices_half = prices.to(dtype=torch.half)
prices_int = prices.to(torch.long)
counts_float = counts.to(torch.float)
""",
        },
    },
    "q6": {
        "wrong": {
            "element-wise and matrix product swapped": """
A = torch.tensor([[1, 2], [3, 4]])
B = torch.tensor([[5, 6], [7, 8]])
elementwise = A @ B
matrix_product = A * B
plus_ten = A + 10
""",
            "B on the left of the matrix product": """
A = torch.tensor([[1, 2], [3, 4]])
B = torch.tensor([[5, 6], [7, 8]])
elementwise = A * B
matrix_product = B @ A
plus_ten = A + 10
""",
            "added instead of multiplied": """
A = torch.tensor([[1, 2], [3, 4]])
B = torch.tensor([[5, 6], [7, 8]])
elementwise = A + B
matrix_product = A @ B
plus_ten = A + 10
""",
            "multiplied by 10 instead of adding 10": """
A = torch.tensor([[1, 2], [3, 4]])
B = torch.tensor([[5, 6], [7, 8]])
elementwise = A * B
matrix_product = A @ B
plus_ten = A * 10
""",
        },
        "right": {
            "torch.mul, torch.matmul, torch.add": """
A = torch.tensor([[1, 2], [3, 4]])
B = torch.tensor([[5, 6], [7, 8]])
elementwise = torch.mul(A, B)
matrix_product = torch.matmul(A, B)
plus_ten = torch.add(A, 10)
""",
            "torch.mm": """
A = torch.tensor([[1, 2], [3, 4]])
B = torch.tensor([[5, 6], [7, 8]])
elementwise = B * A
matrix_product = torch.mm(A, B)
plus_ten = 10 + A
""",
        },
    },
    "q7": {
        "wrong": {
            "transposed the wrong side (B @ A.T)": """
tensor_A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
tensor_B = torch.tensor([[7.0, 10.0], [8.0, 11.0], [9.0, 12.0]])
product = tensor_B @ tensor_A.T
product_small = tensor_A.T @ tensor_B
""",
            "element-wise product instead of matmul": """
tensor_A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
tensor_B = torch.tensor([[7.0, 10.0], [8.0, 11.0], [9.0, 12.0]])
product = tensor_A * tensor_B
product_small = tensor_A.T * tensor_B.T
""",
            "small product with the order swapped": """
tensor_A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
tensor_B = torch.tensor([[7.0, 10.0], [8.0, 11.0], [9.0, 12.0]])
product = tensor_A @ tensor_B.T
product_small = tensor_B.T @ tensor_A
""",
            "the two products swapped": """
tensor_A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
tensor_B = torch.tensor([[7.0, 10.0], [8.0, 11.0], [9.0, 12.0]])
product = tensor_A.T @ tensor_B
product_small = tensor_A @ tensor_B.T
""",
        },
        "right": {
            "matmul and transpose(0, 1)": """
tensor_A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
tensor_B = torch.tensor([[7.0, 10.0], [8.0, 11.0], [9.0, 12.0]])
product = torch.matmul(tensor_A, tensor_B.transpose(0, 1))
product_small = torch.mm(tensor_A.t(), tensor_B)
""",
            "transpose of the reversed product": """
tensor_A = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
tensor_B = torch.tensor([[7.0, 10.0], [8.0, 11.0], [9.0, 12.0]])
product = (tensor_B @ tensor_A.T).T
product_small = (tensor_B.T @ tensor_A).T
""",
        },
    },
    "q8": {
        "wrong": {
            "integer division for the mean": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = x.min()
x_max = x.max()
x_sum = x.sum()
x_mean = x.sum() // len(x)
""",
            "mean as float64": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = x.min()
x_max = x.max()
x_sum = x.sum()
x_mean = x.type(torch.float64).mean()
""",
            "argmax instead of max": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = x.min()
x_max = x.argmax()
x_sum = x.sum()
x_mean = x.type(torch.float32).mean()
""",
            "Python numbers with item()": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = x.min().item()
x_max = x.max().item()
x_sum = x.sum().item()
x_mean = x.type(torch.float32).mean().item()
""",
            "mean of the integer tensor (RuntimeError)": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = x.min()
x_max = x.max()
x_sum = x.sum()
x_mean = x.mean()
""",
        },
        "right": {
            "function forms and mean(dtype=...)": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = torch.min(x)
x_max = torch.max(x)
x_sum = torch.sum(x)
x_mean = torch.mean(x, dtype=torch.float32)
""",
            "sum divided by the count": """
x = torch.tensor([3, 9, 4, 1, 7, 2])
x_min = x.min()
x_max = x.max()
x_sum = x.sum()
x_mean = x.sum() / x.numel()
""",
        },
    },
    "q9": {
        "wrong": {
            "max value instead of its index": """
torch.manual_seed(1)
scores = torch.rand(8)
best = scores.max()
worst = scores.min()
best_score = scores.max()
""",
            "argmax and argmin swapped": """
torch.manual_seed(1)
scores = torch.rand(8)
best = scores.argmin()
worst = scores.argmax()
best_score = scores.max()
""",
            "Python ints with item()": """
torch.manual_seed(1)
scores = torch.rand(8)
best = scores.argmax().item()
worst = scores.argmin().item()
best_score = scores.max().item()
""",
            "best score is the index": """
torch.manual_seed(1)
scores = torch.rand(8)
best = scores.argmax()
worst = scores.argmin()
best_score = scores.argmax()
""",
            "keepdim adds a dimension": """
torch.manual_seed(1)
scores = torch.rand(8)
best = torch.argmax(scores, dim=0, keepdim=True)
worst = torch.argmin(scores, dim=0, keepdim=True)
best_score = scores.max()
""",
        },
        "right": {
            "max and min with dim": """
torch.manual_seed(1)
scores = torch.rand(8)
best_score, best = scores.max(dim=0)
worst = torch.min(scores, dim=0).indices
""",
            "function forms and indexing": """
torch.manual_seed(1)
scores = torch.rand(8)
best = torch.argmax(scores)
worst = torch.argmin(scores)
best_score = scores[best]
""",
        },
    },
    "q10": {
        "wrong": {
            "a copy instead of a view": """
numbers = torch.arange(1, 10)
numbers_square = numbers.reshape(3, 3)
numbers_row = numbers.view(1, 9).clone()
""",
            "a column instead of a row": """
numbers = torch.arange(1, 10)
numbers_square = numbers.reshape(3, 3)
numbers_row = numbers.view(9, 1)
""",
            "a view of a new tensor, not of numbers": """
numbers = torch.arange(1, 10)
numbers_square = numbers.reshape(3, 3)
numbers_row = torch.arange(1, 10).view(1, 9)
""",
            "square transposed": """
numbers = torch.arange(1, 10)
numbers_square = numbers.reshape(3, 3).T
numbers_row = numbers.view(1, 9)
""",
            "copied with torch.tensor": """
numbers = torch.arange(1, 10)
numbers_square = numbers.reshape(3, 3)
numbers_row = torch.tensor(numbers.tolist()).view(1, 9)
""",
        },
        "right": {
            "view and unsqueeze": """
numbers = torch.arange(1, 10)
numbers_square = numbers.view(3, 3)
numbers_row = numbers.unsqueeze(0)
""",
            "reshape with -1 (a view of a contiguous tensor)": """
numbers = torch.arange(1, 10)
numbers_square = numbers.reshape(-1, 3)
numbers_row = numbers.reshape(1, -1)
""",
        },
    },
    "q11": {
        "wrong": {
            "cat instead of stack": """
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
rows = torch.cat([x, y])
columns = torch.cat([x, y], dim=0)
""",
            "dims swapped": """
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
rows = torch.stack([x, y], dim=1)
columns = torch.stack([x, y], dim=0)
""",
            "columns by reshaping the rows": """
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
rows = torch.stack([x, y], dim=0)
columns = rows.reshape(3, 2)
""",
            "hstack": """
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
rows = torch.hstack([x, y])
columns = torch.stack([x, y], dim=1)
""",
        },
        "right": {
            "vstack and transpose": """
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
rows = torch.vstack([x, y])
columns = rows.T
""",
            "stack of a tuple and column_stack": """
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
rows = torch.stack((x, y))
columns = torch.column_stack((x, y))
""",
        },
    },
    "q12": {
        "wrong": {
            "squeezed only the first dimension": """
x = torch.tensor([[[1.0], [2.0], [3.0]]])
v = torch.tensor([4.0, 5.0, 6.0])
x_squeezed = x.squeeze(0)
v_row = v.unsqueeze(dim=0)
v_col = v.unsqueeze(dim=1)
""",
            "unsqueeze dims swapped": """
x = torch.tensor([[[1.0], [2.0], [3.0]]])
v = torch.tensor([4.0, 5.0, 6.0])
x_squeezed = x.squeeze()
v_row = v.unsqueeze(dim=1)
v_col = v.unsqueeze(dim=0)
""",
            "unsqueeze result not kept": """
x = torch.tensor([[[1.0], [2.0], [3.0]]])
v = torch.tensor([4.0, 5.0, 6.0])
x_squeezed = x.squeeze()
v.unsqueeze(dim=0)
v_row = v
v_col = v
""",
            ".T on a vector for the column": """
x = torch.tensor([[[1.0], [2.0], [3.0]]])
v = torch.tensor([4.0, 5.0, 6.0])
x_squeezed = x.squeeze()
v_row = v.unsqueeze(dim=0)
v_col = v.T
""",
        },
        "right": {
            "indexing with None": """
x = torch.tensor([[[1.0], [2.0], [3.0]]])
v = torch.tensor([4.0, 5.0, 6.0])
x_squeezed = x.squeeze(0).squeeze(-1)
v_row = v[None, :]
v_col = v[:, None]
""",
            "reshape and unsqueeze(-1)": """
x = torch.tensor([[[1.0], [2.0], [3.0]]])
v = torch.tensor([4.0, 5.0, 6.0])
x_squeezed = x.reshape(3)
v_row = v.reshape(1, 3)
v_col = v.unsqueeze(-1)
""",
        },
    },
    "q13": {
        "wrong": {
            "reshape instead of permute": """
torch.manual_seed(42)
image_hwc = torch.rand(4, 5, 3)
image_chw = image_hwc.reshape(3, 4, 5)
""",
            "wrong order (2, 1, 0)": """
torch.manual_seed(42)
image_hwc = torch.rand(4, 5, 3)
image_chw = image_hwc.permute(2, 1, 0)
""",
            "a contiguous copy, not a view": """
torch.manual_seed(42)
image_hwc = torch.rand(4, 5, 3)
image_chw = image_hwc.permute(2, 0, 1).contiguous()
""",
            "permuted a fresh draw, not image_hwc": """
torch.manual_seed(42)
image_hwc = torch.rand(4, 5, 3)
image_chw = torch.rand(4, 5, 3).permute(2, 0, 1)
""",
        },
        "right": {
            "torch.permute with a tuple": """
torch.manual_seed(42)
image_hwc = torch.rand(4, 5, 3)
image_chw = torch.permute(image_hwc, (2, 0, 1))
""",
            "movedim": """
torch.manual_seed(42)
image_hwc = torch.rand(4, 5, 3)
image_chw = image_hwc.movedim(2, 0)
""",
        },
    },
    "q14": {
        "wrong": {
            "middle column loses the first dimension": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[0, 1, 1]
middle_column = x[0, :, 1]
last_row = x[0, -1]
""",
            "middle row instead of column": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[0, 1, 1]
middle_column = x[:, 1, :]
last_row = x[0, -1]
""",
            "center as a Python int": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[0, 1, 1].item()
middle_column = x[:, :, 1]
last_row = x[0, -1]
""",
            "last column instead of last row": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[0, 1, 1]
middle_column = x[:, :, 1]
last_row = x[0, :, -1]
""",
            "first index forgotten": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[0][1]
middle_column = x[:, :, 1]
last_row = x[-1]
""",
        },
        "right": {
            "chained brackets and ellipsis": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[0][1][1]
middle_column = x[..., 1]
last_row = x[0][2]
""",
            "explicit slices": """
x = torch.arange(1, 10).reshape(1, 3, 3)
center = x[-1, -2, -2]
middle_column = x[0:1, :, 1]
last_row = x[0, 2, :]
""",
        },
    },
    "q15": {
        "wrong": {
            "both copied with torch.tensor": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.tensor(np_array)
copied = torch.tensor(np_array)
back = copied.numpy()
""",
            "as_tensor for the copy (it shares)": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.from_numpy(np_array)
copied = torch.as_tensor(np_array)
back = copied.numpy()
""",
            "both from_numpy": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.from_numpy(np_array)
copied = torch.from_numpy(np_array)
back = copied.numpy()
""",
            "back copied with np.array": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.from_numpy(np_array)
copied = torch.tensor(np_array)
back = np.array(copied.tolist())
""",
            "back as a list": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.from_numpy(np_array)
copied = torch.tensor(np_array)
back = copied.tolist()
""",
        },
        "right": {
            "as_tensor, clone and asarray": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.as_tensor(np_array)
copied = torch.from_numpy(np_array).clone()
back = np.asarray(copied)
""",
            "copy the array first": """
np_array = np.array([[1, 2], [3, 4]])
shared = torch.from_numpy(np_array)
copied = torch.from_numpy(np_array.copy())
back = copied.numpy()
""",
        },
    },
    "q16": {
        "wrong": {
            "forgot the dtype": """
def fix_batch(t, device):
    return t.reshape(-1, 1).to(device)
""",
            "to(device) not reassigned": """
def fix_batch(t, device):
    t.to(device)
    return t.type(torch.float32).reshape(-1, 1)
""",
            "hard-coded cpu": """
def fix_batch(t, device):
    return t.reshape(-1, 1).to("cpu").type(torch.float32)
""",
            "a row instead of a column": """
def fix_batch(t, device):
    return t.reshape(1, -1).to(device=device, dtype=torch.float32)
""",
            "float64 instead of float32": """
def fix_batch(t, device):
    return t.double().reshape(-1, 1).to(device)
""",
            "unsqueeze instead of flattening": """
def fix_batch(t, device):
    return t.unsqueeze(1).to(device=device, dtype=torch.float32)
""",
            "view, which fails on a tensor that is not contiguous": """
def fix_batch(t, device):
    return t.view(-1, 1).to(device=device, dtype=torch.float32)
""",
        },
        "right": {
            "float, flatten, unsqueeze, to": """
def fix_batch(t, device):
    t = t.float()
    t = t.flatten().unsqueeze(1)
    t = t.to(device)
    return t
""",
            "to device first, then flatten and view": """
def fix_batch(t, device):
    moved = t.to(torch.device(device))
    return moved.type(torch.float32).flatten().view(moved.numel(), 1)
""",
        },
    },
    "q17": {
        "wrong": {
            "forgot the seeds": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
noise = torch.rand_like(counts, dtype=torch.float32)
noise64 = torch.rand_like(counts, dtype=torch.float64)
""",
            "float64 drawn as float32, then converted": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
torch.manual_seed(3)
noise = torch.rand_like(counts, dtype=torch.float32)
torch.manual_seed(5)
noise64 = torch.rand_like(counts, dtype=torch.float32).double()
""",
            "seeded once with 3 for both": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
torch.manual_seed(3)
noise = torch.rand_like(counts, dtype=torch.float32)
noise64 = torch.rand_like(counts, dtype=torch.float64)
""",
            "normal instead of uniform (randn_like)": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
torch.manual_seed(3)
noise = torch.randn_like(counts, dtype=torch.float32)
torch.manual_seed(5)
noise64 = torch.randn_like(counts, dtype=torch.float64)
""",
            "float16 instead of float32": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
torch.manual_seed(3)
noise = torch.rand_like(counts, dtype=torch.float16)
torch.manual_seed(5)
noise64 = torch.rand_like(counts, dtype=torch.float64)
""",
            "counts overwritten by a float copy": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
counts = counts.float()
torch.manual_seed(3)
noise = torch.rand_like(counts)
torch.manual_seed(5)
noise64 = torch.rand_like(counts, dtype=torch.float64)
""",
        },
        "right": {
            "rand_like of a float copy, then rand with the shape": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
torch.manual_seed(3)
noise = torch.rand_like(counts.float())
torch.manual_seed(5)
noise64 = torch.rand(counts.shape, dtype=torch.double)
""",
            "random.manual_seed and torch.float": """
counts = torch.tensor([[3, 0, 2], [1, 5, 4]])
torch.random.manual_seed(3)
noise = torch.rand_like(counts, dtype=torch.float)
torch.random.manual_seed(5)
noise64 = torch.rand_like(counts, dtype=torch.float64)
""",
        },
    },
    "q18": {
        "wrong": {
            "col on the left of m": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
wide = torch.hstack([col, m])
tall = torch.vstack([m, row])
joined = torch.hstack([x, y])
""",
            "row on top of m": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
wide = torch.hstack([m, col])
tall = torch.vstack([row, m])
joined = torch.hstack([x, y])
""",
            "vstack for the vectors (rows, not one vector)": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
wide = torch.hstack([m, col])
tall = torch.vstack([m, row])
joined = torch.vstack([x, y])
""",
            "stack instead of hstack for the vectors": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
wide = torch.hstack([m, col])
tall = torch.vstack([m, row])
joined = torch.stack([x, y], dim=1).flatten()
""",
            "cat along the wrong dimension for wide": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
tall = torch.vstack([m, row])
joined = torch.hstack([x, y])
wide = torch.cat([m, col.reshape(1, -1)])  # made to fit on top, not beside
""",
        },
        "right": {
            "torch.cat with the dims": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
wide = torch.cat((m, col), dim=1)
tall = torch.cat((m, row), dim=0)
joined = torch.cat((x, y))
""",
            "vstack then flatten, tuples": """
m = torch.tensor([[1, 2], [3, 4]])
col = torch.tensor([[5], [6]])
row = torch.tensor([[7, 8]])
x = torch.tensor([1, 2, 3])
y = torch.tensor([4, 5, 6])
wide = torch.hstack((m, col))
tall = torch.vstack((m, row))
joined = torch.vstack((x, y)).flatten()
""",
        },
    },
    "q19": {
        "wrong": {
            "v changed in place (unsqueeze_)": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = torch.mm(inputs, weights)
v_out = torch.mm(v.unsqueeze_(0), weights)
""",
            "v as a vector (shape (3,))": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = torch.mm(inputs, weights)
v_out = v @ weights
""",
            "v as a column, then transposed result": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = torch.mm(inputs, weights)
v_out = torch.mm(weights.T, v.unsqueeze(1))
""",
            "outputs transposed": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = torch.mm(weights.T, inputs.T)
v_out = torch.mm(v.unsqueeze(0), weights)
""",
            "inputs redrawn after the seed": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
inputs = torch.rand(4, 2)
outputs = torch.mm(inputs, weights)
v_out = torch.mm(v.unsqueeze(0), weights)
""",
            "element-wise products summed the wrong way": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = torch.mm(inputs, weights)
v_out = (v.unsqueeze(0) * weights.T).sum(dim=0, keepdim=True)
""",
        },
        "right": {
            "@ with reshape": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = inputs @ weights
v_out = v.reshape(1, -1) @ weights
""",
            "matmul and indexing with None": """
torch.manual_seed(0)
inputs = torch.rand(4, 2)
weights = torch.rand(2, 3)
v = torch.tensor([1.0, 2.0])
outputs = torch.matmul(inputs, weights)
v_out = torch.mm(v[None, :], weights)
""",
        },
    },
}
