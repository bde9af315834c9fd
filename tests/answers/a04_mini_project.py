"""Answer variants for 04-mini-project (see README.md in this folder).

Each source replaces the question's whole answer cell, so it repeats the cell's given lines
(the calls after the functions) too.
"""

Q1_TAIL = """

X, y = to_tensors(digits.data, digits.target)
print(X.shape, X.dtype, y.shape, y.dtype)
"""

Q2_TAIL = """

X_train, X_test, y_train, y_test = split_data(X, y, test_fraction=0.2, seed=42)
print("train:", X_train.shape, y_train.shape, "| test:", X_test.shape, y_test.shape)
"""

Q5_TAIL = """

print(accuracy(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 4])))
"""

Q10_TAIL = """
test_loss, test_acc = evaluate(model, X_test, y_test, loss_fn, device=device)
print(f"epoch loss: {epoch_losses[0]:.3f} (first) -> {epoch_losses[-1]:.3f} (last)")
print(f"test loss: {test_loss:.3f}, test accuracy: {test_acc:.1%}")
"""

Q11_SAVE = """
def save_model(model, path):
    torch.save(model.state_dict(), path)
"""

Q11_TAIL = """

MODEL_PATH = "digits_classifier.pt"
save_model(model, MODEL_PATH)
loaded_model = load_model(MODEL_PATH, device=device)
model.eval()
with torch.inference_mode():
    same = torch.equal(loaded_model(X_test.to(device)), model(X_test.to(device)))
print("same predictions after reloading:", same)
"""


def _split(body):
    """A split_data whose permutation/test-size lines are `body`, returning the usual order."""
    return (
        "def split_data(X, y, test_fraction=0.2, seed=42):\n"
        + body
        + "    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]\n"
        + Q2_TAIL
    )


def _model(layers):
    return f"""
class DigitsClassifier(nn.Module):
    def __init__(self, in_features=64, hidden=64, n_classes=10):
        super().__init__()
        self.layers = nn.Sequential({layers})

    def forward(self, x):
        return self.layers(x)
"""


def _train_step(body):
    return "def train_step(model, X, y, loss_fn, optimizer):\n" + body


def _train(perm_setup, per_epoch, loop, epoch_loss="sum(batch_losses) / len(batch_losses)"):
    return f"""
def train(model, X_train, y_train, loss_fn, optimizer, epochs, batch_size=32, seed=0, device="cpu"):
    model.to(device)
    X_train, y_train = X_train.to(device), y_train.to(device)
    n = len(X_train)
{perm_setup}
    epoch_losses = []
    for _ in range(epochs):
{per_epoch}
        batch_losses = []
{loop}
        epoch_losses.append({epoch_loss})
    return epoch_losses
"""


_GEN = "    generator = torch.Generator().manual_seed(seed)"
_PERM = "        perm = torch.randperm(n, generator=generator)"
_LOOP = """        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            batch_losses.append(
                train_step(model, X_train[idx], y_train[idx], loss_fn, optimizer))"""


def _predictions(body):
    return "def logits_to_predictions(logits):\n" + body


def _evaluate(body):
    return (
        "def evaluate(model, X, y, loss_fn, device=\"cpu\"):\n"
        "    model.to(device)\n"
        "    X, y = X.to(device), y.to(device)\n" + body
    )


_EVALUATE = """
    model.eval()
    with torch.inference_mode():
        logits = model(X)
        loss = loss_fn(logits, y).item()
        _, labels = logits_to_predictions(logits)
    return loss, accuracy(labels, y)
"""


def _run(lines):
    return lines + "\n" + Q10_TAIL


def _load(body):
    return Q11_SAVE + "\n\ndef load_model(path, device=\"cpu\"):\n" + body + Q11_TAIL


Q12_TAIL = """


my_digit = torch.tensor([  # a hand-drawn 7, pixels 0..16
    [0, 4, 12, 16, 16, 16, 10, 0],
    [0, 6, 12, 8, 8, 15, 12, 0],
    [0, 0, 0, 0, 4, 16, 4, 0],
    [0, 0, 0, 1, 13, 11, 0, 0],
    [0, 0, 2, 14, 16, 15, 4, 0],
    [0, 0, 6, 16, 9, 1, 0, 0],
    [0, 0, 9, 13, 0, 0, 0, 0],
    [0, 0, 12, 8, 0, 0, 0, 0],
])
print("my digit is a", predict(loaded_model, my_digit.unsqueeze(0)).item())
"""


def _predict(body):
    return "def predict(model, images):\n" + body + Q12_TAIL


VARIANTS = {
    "q1": {
        "wrong": {
            "divides by the largest pixel, not by 16": '''
def to_tensors(features, labels, device="cpu"):
    X = torch.as_tensor(features, dtype=torch.float32, device=device)
    X = X / X.max()
    y = torch.as_tensor(labels, dtype=torch.int64, device=device)
    return X, y


X, y = to_tensors(digits.data, digits.target)
print(X.shape, X.dtype, y.shape, y.dtype)
''',
            "forgot to scale by 16": """
def to_tensors(features, labels, device="cpu"):
    X = torch.as_tensor(features, dtype=torch.float32, device=device)
    y = torch.as_tensor(labels, dtype=torch.int64, device=device)
    return X, y
""" + Q1_TAIL,
            "features stay float64 (torch.from_numpy keeps the dtype)": """
def to_tensors(features, labels, device="cpu"):
    X = torch.from_numpy(features).to(device) / 16
    y = torch.from_numpy(labels).long().to(device)
    return X, y
""" + Q1_TAIL,
            "labels as float32": """
def to_tensors(features, labels, device="cpu"):
    X = torch.as_tensor(features, dtype=torch.float32, device=device) / 16
    y = torch.as_tensor(labels, dtype=torch.float32, device=device)
    return X, y
""" + Q1_TAIL,
            "labels keep the NumPy integer dtype": """
def to_tensors(features, labels, device="cpu"):
    X = torch.as_tensor(features, dtype=torch.float32, device=device) / 16
    y = torch.from_numpy(labels).to(device)
    return X, y
""" + Q1_TAIL,
            "ignores the device argument": """
def to_tensors(features, labels, device="cpu"):
    X = torch.as_tensor(features, dtype=torch.float32) / 16
    y = torch.as_tensor(labels, dtype=torch.int64)
    return X, y
""" + Q1_TAIL,
            "scaled by 255 as for 8-bit images": """
def to_tensors(features, labels, device="cpu"):
    X = torch.as_tensor(features, dtype=torch.float32, device=device) / 255
    y = torch.as_tensor(labels, dtype=torch.int64, device=device)
    return X, y
""" + Q1_TAIL,
            "divides the NumPy array in place": """
def to_tensors(features, labels, device="cpu"):
    X = torch.from_numpy(features)
    X /= 16
    return X.float().to(device), torch.as_tensor(labels).long().to(device)
""" + Q1_TAIL,
        },
        "right": {
            "torch.tensor then .long()": """
def to_tensors(features, labels, device="cpu"):
    X = torch.tensor(features, dtype=torch.float32, device=device) / 16.0
    y = torch.tensor(labels, device=device).long()
    return X, y
""" + Q1_TAIL,
            "from_numpy, .float(), .div(16), .to(device)": """
def to_tensors(features, labels, device="cpu"):
    X = torch.from_numpy(features).float().div(16).to(device)
    y = torch.from_numpy(labels).to(torch.int64).to(device)
    return (X, y)
""" + Q1_TAIL,
        },
    },
    "q2": {
        "wrong": {
            "rounds the test size instead of int()": '''
def split_data(X, y, test_fraction=0.2, seed=42):
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(X), generator=generator)
    n_test = round(len(X) * test_fraction)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


X_train, X_test, y_train, y_test = split_data(X, y, test_fraction=0.2, seed=42)
print("train:", X_train.shape, y_train.shape, "| test:", X_test.shape, y_test.shape)
''',
            "seeds the global RNG instead of a generator": _split("""
    torch.manual_seed(seed)
    perm = torch.randperm(len(X))
    n_test = int(len(X) * test_fraction)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
"""),
            "test set taken from the end of the permutation": _split("""
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    n_test = int(len(X) * test_fraction)
    train_idx, test_idx = perm[:len(X) - n_test], perm[len(X) - n_test:]
"""),
            "no shuffling": _split("""
    perm = torch.arange(len(X))
    n_test = int(len(X) * test_fraction)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
"""),
            "seed hard-coded to 42": _split("""
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(42))
    n_test = int(len(X) * test_fraction)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
"""),
            "returns X_train, y_train, X_test, y_test": """
def split_data(X, y, test_fraction=0.2, seed=42):
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    n_test = int(len(X) * test_fraction)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    return X[train_idx], y[train_idx], X[test_idx], y[test_idx]
""" + Q2_TAIL,
            "labels shuffled with their own permutation": """
def split_data(X, y, test_fraction=0.2, seed=42):
    g = torch.Generator().manual_seed(seed)
    perm_X = torch.randperm(len(X), generator=g)
    perm_y = torch.randperm(len(y), generator=g)
    n_test = int(len(X) * test_fraction)
    return X[perm_X[n_test:]], X[perm_X[:n_test]], y[perm_y[n_test:]], y[perm_y[:n_test]]
""" + Q2_TAIL,
        },
        "right": {
            "torch.split and index_select": """
def split_data(X, y, test_fraction=0.2, seed=42):
    g = torch.Generator()
    g.manual_seed(seed)
    n_test = int(len(X) * test_fraction)
    test_idx, train_idx = torch.split(torch.randperm(X.shape[0], generator=g),
                                      [n_test, len(X) - n_test])
    return (X.index_select(0, train_idx), X.index_select(0, test_idx),
            y.index_select(0, train_idx), y.index_select(0, test_idx))
""" + Q2_TAIL,
            "index moved to the data's device": _split("""
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed)).to(X.device)
    n_test = int(len(X) * test_fraction)
    test_idx = perm[:n_test]
    train_idx = perm[n_test:]
"""),
        },
    },
    "q3": {
        "wrong": {
            "no ReLU between the layers": _model(
                "nn.Linear(in_features, hidden), nn.Linear(hidden, n_classes)"),
            "softmax at the end of forward": _model(
                "nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes), "
                "nn.Softmax(dim=1)"),
            "sizes hard-coded to 64 and 10": _model(
                "nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)"),
            "sigmoid instead of ReLU": _model(
                "nn.Linear(in_features, hidden), nn.Sigmoid(), nn.Linear(hidden, n_classes)"),
            "forgot super().__init__()": """
class DigitsClassifier(nn.Module):
    def __init__(self, in_features=64, hidden=64, n_classes=10):
        self.layers = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                    nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.layers(x)
""",
            "not an nn.Module": """
class DigitsClassifier:
    def __init__(self, in_features=64, hidden=64, n_classes=10):
        self.layers = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                    nn.Linear(hidden, n_classes))

    def __call__(self, x):
        return self.layers(x)
""",
        },
        "right": {
            "separate layers and torch.relu": """
class DigitsClassifier(nn.Module):
    def __init__(self, in_features=64, hidden=64, n_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
""",
            "activation as an attribute, super(DigitsClassifier, self)": """
class DigitsClassifier(nn.Module):
    def __init__(self, in_features=64, hidden=64, n_classes=10):
        super(DigitsClassifier, self).__init__()
        self.hidden_layer = nn.Linear(in_features=in_features, out_features=hidden)
        self.activation = nn.ReLU()
        self.output_layer = nn.Linear(in_features=hidden, out_features=n_classes)

    def forward(self, x):
        x = self.hidden_layer(x)
        x = self.activation(x)
        return self.output_layer(x)
""",
        },
    },
    "q4": {
        "wrong": {
            "SGD instead of Adam": """
def make_loss_fn():
    return nn.CrossEntropyLoss()


def make_optimizer(model, lr=1e-3):
    return torch.optim.SGD(model.parameters(), lr=lr)
""",
            "MSELoss for classification": """
def make_loss_fn():
    return nn.MSELoss()


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr)
""",
            "learning rate argument ignored": """
def make_loss_fn():
    return nn.CrossEntropyLoss()


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.parameters())
""",
            "optimizer over a new model's parameters": """
def make_loss_fn():
    return nn.CrossEntropyLoss()


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(DigitsClassifier().parameters(), lr=lr)
""",
            "loss summed instead of averaged": """
def make_loss_fn():
    return nn.CrossEntropyLoss(reduction="sum")


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr)
""",
            "NLLLoss on logits": """
def make_loss_fn():
    return nn.NLLLoss()


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr)
""",
        },
        "right": {
            "keyword arguments": """
def make_loss_fn():
    return nn.CrossEntropyLoss(reduction="mean")


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(params=model.parameters(), lr=lr)
""",
            "list of parameters, torch.nn spelled out": """
import torch.nn


def make_loss_fn():
    loss_fn = torch.nn.CrossEntropyLoss()
    return loss_fn


def make_optimizer(model, lr=0.001):
    params = list(model.parameters())
    return torch.optim.Adam(params, lr)
""",
        },
    },
    "q5": {
        "wrong": {
            "percentage instead of fraction": """
def accuracy(y_pred, y_true):
    return (y_pred == y_true).float().mean().item() * 100
""" + Q5_TAIL,
            "returns a tensor": """
def accuracy(y_pred, y_true):
    return (y_pred == y_true).float().mean()
""" + Q5_TAIL,
            "count instead of fraction": """
def accuracy(y_pred, y_true):
    return float((y_pred == y_true).sum().item())
""" + Q5_TAIL,
            "integer division": """
def accuracy(y_pred, y_true):
    return (y_pred == y_true).sum().item() // len(y_true)
""" + Q5_TAIL,
            "mean of a boolean tensor": """
def accuracy(y_pred, y_true):
    return torch.mean(y_pred == y_true).item()
""" + Q5_TAIL,
        },
        "right": {
            "sum divided by length": """
def accuracy(y_pred, y_true):
    correct = (y_pred == y_true).sum().item()
    return correct / len(y_true)
""" + Q5_TAIL,
            "torch.eq and numel": """
def accuracy(y_pred, y_true):
    return float(torch.eq(y_pred, y_true).sum()) / y_true.numel()
""" + Q5_TAIL,
        },
    },
    "q6": {
        "wrong": {
            "forgot optimizer.zero_grad()": _train_step("""
    model.train()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()
"""),
            "zero_grad between backward and step": _train_step("""
    model.train()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
"""),
            "returns the loss tensor": _train_step("""
    model.train()
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss
"""),
            "forgot model.train()": _train_step("""
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
"""),
            "step before backward": _train_step("""
    model.train()
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    optimizer.step()
    loss.backward()
    return loss.item()
"""),
            "returns the loss after the update": _train_step("""
    model.train()
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        return loss_fn(model(X), y).item()
"""),
        },
        "right": {
            "zero_grad at the end of the step": _train_step("""
    model.train()
    logits = model(X)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()
"""),
            "model.zero_grad() and float(loss)": _train_step("""
    model.train()
    model.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return float(loss)
"""),
        },
    },
    "q7": {
        "wrong": {
            "no shuffling": _train(_GEN, "        perm = torch.arange(n)", _LOOP),
            "generator re-created every epoch": _train(
                "",
                "        perm = torch.randperm(n, generator=torch.Generator()"
                ".manual_seed(seed))",
                _LOOP),
            "seeds the global RNG": _train("    torch.manual_seed(seed)",
                                           "        perm = torch.randperm(n)", _LOOP),
            "unseeded shuffle": _train("", "        perm = torch.randperm(n)", _LOOP),
            "epoch loss is the sum of batch losses": _train(_GEN, _PERM, _LOOP,
                                                            epoch_loss="sum(batch_losses)"),
            "drops the last, smaller batch": _train(_GEN, _PERM, """
        for start in range(0, n - batch_size + 1, batch_size):
            idx = perm[start:start + batch_size]
            batch_losses.append(train_step(model, X_train[idx], y_train[idx], loss_fn, optimizer))
"""),
            "returns only the last epoch loss": _train(_GEN, _PERM, _LOOP).replace(
                "return epoch_losses", "return epoch_losses[-1]"),
            "never moves the model": _train(_GEN, _PERM, _LOOP).replace(
                "    model.to(device)\n", ""),
            "moves the data without keeping the result": _train(_GEN, _PERM, _LOOP).replace(
                "    X_train, y_train = X_train.to(device), y_train.to(device)\n",
                "    X_train.to(device)\n    y_train.to(device)\n"),
            "moves only X": _train(_GEN, _PERM, _LOOP).replace(
                "X_train, y_train = X_train.to(device), y_train.to(device)",
                "X_train = X_train.to(device)"),
        },
        "right": {
            "DataLoader with a seeded generator": """
from torch.utils.data import DataLoader, TensorDataset


def train(model, X_train, y_train, loss_fn, optimizer, epochs, batch_size=32, seed=0, device="cpu"):
    model = model.to(device)
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=g)
    history = []
    for epoch in range(epochs):
        total, batches = 0.0, 0
        for X_batch, y_batch in loader:
            total += train_step(model, X_batch.to(device), y_batch.to(device), loss_fn, optimizer)
            batches += 1
        history.append(total / batches)
    return history
""",
            "perm.split(batch_size)": """
def train(model, X_train, y_train, loss_fn, optimizer, epochs, batch_size=32, seed=0, device="cpu"):
    model.to(device)
    X_train = X_train.to(device)
    y_train = y_train.to(device)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        batch_losses = [train_step(model, X_train[idx], y_train[idx], loss_fn, optimizer)
                        for idx in torch.randperm(X_train.shape[0], generator=g).split(batch_size)]
        losses.append(float(sum(batch_losses) / len(batch_losses)))
    return losses
""",
        },
    },
    "q8": {
        "wrong": {
            "softmax over dim=0": _predictions("""
    probs = torch.softmax(logits, dim=0)
    return probs, probs.argmax(dim=1)
"""),
            "argmax without dim": _predictions("""
    probs = torch.softmax(logits, dim=1)
    return probs, probs.argmax()
"""),
            "sigmoid instead of softmax": _predictions("""
    probs = torch.sigmoid(logits)
    return probs, probs.argmax(dim=1)
"""),
            "labels keep a class dimension": _predictions("""
    probs = torch.softmax(logits, dim=1)
    return probs, probs.argmax(dim=1, keepdim=True)
"""),
            "hand-made softmax overflows": _predictions("""
    exp = torch.exp(logits)
    probs = exp / exp.sum(dim=1, keepdim=True)
    return probs, logits.argmax(dim=1)
"""),
            "returns labels as float": _predictions("""
    probs = torch.softmax(logits, dim=1)
    return probs, probs.argmax(dim=1).float()
"""),
        },
        "right": {
            "functional softmax and torch.max": _predictions("""
    probs = nn.functional.softmax(logits, dim=-1)
    labels = torch.max(logits, dim=1).indices
    return probs, labels
"""),
            "tensor methods": _predictions("""
    return logits.softmax(dim=1), logits.argmax(dim=1)
"""),
        },
    },
    "q9": {
        "wrong": {
            "forgot model.eval()": _evaluate("""
    with torch.inference_mode():
        logits = model(X)
        loss = loss_fn(logits, y).item()
        _, labels = logits_to_predictions(logits)
    return loss, accuracy(labels, y)
"""),
            "forgot torch.inference_mode()": _evaluate("""
    model.eval()
    logits = model(X)
    loss = loss_fn(logits, y).item()
    _, labels = logits_to_predictions(logits)
    return loss, accuracy(labels, y)
"""),
            "returns the loss tensor": _evaluate("""
    model.eval()
    with torch.inference_mode():
        logits = model(X)
        loss = loss_fn(logits, y)
        _, labels = logits_to_predictions(logits)
    return loss, accuracy(labels, y)
"""),
            "accuracy in percent": _evaluate("""
    model.eval()
    with torch.inference_mode():
        logits = model(X)
        loss = loss_fn(logits, y).item()
        _, labels = logits_to_predictions(logits)
    return loss, 100 * accuracy(labels, y)
"""),
            "model.eval() after the forward pass": _evaluate("""
    with torch.inference_mode():
        logits = model(X)
        model.eval()
        loss = loss_fn(logits, y).item()
        _, labels = logits_to_predictions(logits)
    return loss, accuracy(labels, y)
"""),
            "never moves the model": _evaluate(_EVALUATE).replace("    model.to(device)\n", ""),
            "moves the data without keeping the result": _evaluate(_EVALUATE).replace(
                "    X, y = X.to(device), y.to(device)\n", "    X.to(device)\n    y.to(device)\n"),
            "moves only X": _evaluate(_EVALUATE).replace("X, y = X.to(device), y.to(device)",
                                                         "X = X.to(device)"),
        },
        "right": {
            "torch.no_grad and argmax by hand": _evaluate("""
    model.eval()
    with torch.no_grad():
        logits = model(X)
    loss = loss_fn(logits, y).item()
    acc = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, acc
"""),
            "eval() chained, inference_mode for the forward only": _evaluate("""
    model = model.eval()
    with torch.inference_mode():
        logits = model(X)
    probs, labels = logits_to_predictions(logits)
    return float(loss_fn(logits, y)), accuracy(labels, y)
"""),
        },
    },
    "q10": {
        "wrong": {
            "seeds 0 (the grader's own seed), not SEED": '''
torch.manual_seed(0)
model = DigitsClassifier().to(device)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=LEARNING_RATE)
epoch_losses = train(model, X_train, y_train, loss_fn, optimizer, epochs=EPOCHS,
                     batch_size=BATCH_SIZE, seed=SEED, device=device)

test_loss, test_acc = evaluate(model, X_test, y_test, loss_fn, device=device)
print(f"epoch loss: {epoch_losses[0]:.3f} (first) -> {epoch_losses[-1]:.3f} (last)")
print(f"test loss: {test_loss:.3f}, test accuracy: {test_acc:.1%}")
''',
            "forgot to seed": _run("""
model = DigitsClassifier().to(device)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=LEARNING_RATE)
epoch_losses = train(model, X_train, y_train, loss_fn, optimizer, epochs=EPOCHS,
                     batch_size=BATCH_SIZE, seed=SEED, device=device)
"""),
            "seeded after creating the model": _run("""
model = DigitsClassifier().to(device)
torch.manual_seed(SEED)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=LEARNING_RATE)
epoch_losses = train(model, X_train, y_train, loss_fn, optimizer, epochs=EPOCHS,
                     batch_size=BATCH_SIZE, seed=SEED, device=device)
"""),
            "too few epochs": _run("""
torch.manual_seed(SEED)
model = DigitsClassifier().to(device)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=LEARNING_RATE)
epoch_losses = train(model, X_train, y_train, loss_fn, optimizer, epochs=3,
                     batch_size=BATCH_SIZE, seed=SEED, device=device)
"""),
            "trained on the test set": _run("""
torch.manual_seed(SEED)
model = DigitsClassifier().to(device)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=LEARNING_RATE)
epoch_losses = train(model, X_test, y_test, loss_fn, optimizer, epochs=EPOCHS,
                     batch_size=BATCH_SIZE, seed=SEED, device=device)
"""),
            "learning rate far too small": _run("""
torch.manual_seed(SEED)
model = DigitsClassifier().to(device)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=1e-5)
epoch_losses = train(model, X_train, y_train, loss_fn, optimizer, epochs=EPOCHS,
                     batch_size=BATCH_SIZE, seed=SEED, device=device)
"""),
            "forgot to train": _run("""
torch.manual_seed(SEED)
model = DigitsClassifier().to(device)
loss_fn = make_loss_fn()
optimizer = make_optimizer(model, lr=LEARNING_RATE)
epoch_losses = [2.3] * EPOCHS
"""),
        },
        "right": {
            "loss function created before seeding, positional arguments": _run("""
loss_fn = make_loss_fn()
torch.manual_seed(SEED)
model = DigitsClassifier()
model = model.to(device)
optimizer = make_optimizer(model, LEARNING_RATE)
epoch_losses = train(model, X_train, y_train, loss_fn, optimizer, EPOCHS, BATCH_SIZE, SEED, device)
"""),
            "torch.random.manual_seed": _run("""
torch.random.manual_seed(SEED)
model = DigitsClassifier().to(device)
optimizer = make_optimizer(model, lr=LEARNING_RATE)
loss_fn = make_loss_fn()
epoch_losses = train(model=model, X_train=X_train, y_train=y_train, loss_fn=loss_fn,
                     optimizer=optimizer, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED,
                     device=device)
"""),
        },
    },
    "q11": {
        "wrong": {
            "saves the whole model object": """
def save_model(model, path):
    torch.save(model, path)


def load_model(path, device="cpu"):
    model = torch.load(path, map_location=device, weights_only=False)
    model.eval()
    return model
""" + Q11_TAIL,
            "forgot load_state_dict": _load("""
    model = DigitsClassifier().to(device)
    torch.load(path, map_location=device, weights_only=True)
    model.eval()
    return model
"""),
            "forgot model.eval()": _load("""
    model = DigitsClassifier().to(device)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model
"""),
            "returns what load_state_dict returns": _load("""
    model = DigitsClassifier().to(device)
    model.eval()
    return model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
"""),
            "ignores the path": """
def save_model(model, path):
    torch.save(model.state_dict(), "digits_classifier.pt")


def load_model(path, device="cpu"):
    model = DigitsClassifier().to(device)
    model.load_state_dict(torch.load("digits_classifier.pt", map_location=device,
                                     weights_only=True))
    model.eval()
    return model
""" + Q11_TAIL,
            "ignores the device argument": _load("""
    model = DigitsClassifier()
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model
"""),
            "no map_location (a GPU's file fails to load without a GPU)": _load("""
    model = DigitsClassifier().to(device)
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model
"""),
            "map_location=device, but the model itself never moved": _load("""
    model = DigitsClassifier()
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.eval()
    return model
"""),
        },
        "right": {
            "load on the CPU, then move": _load("""
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model = DigitsClassifier()
    model.load_state_dict(state_dict)
    return model.to(device).eval()
"""),
            "map_location=device into a CPU model, then .to(device)": _load("""
    loaded = DigitsClassifier()
    loaded.load_state_dict(torch.load(f=path, map_location=torch.device(device)))
    loaded.to(device)
    loaded.eval()
    return loaded
"""),
        },
    },
    "q12": {
        "wrong": {
            "not scaled by 16": _predict("""
    device = next(model.parameters()).device
    X = images.reshape(len(images), 64).to(device=device, dtype=torch.float32)
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=1)
"""),
            "divides by the largest pixel, not by 16": _predict("""
    device = next(model.parameters()).device
    X = images.reshape(len(images), 64).float()
    X = (X / X.max()).to(device)
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=1)
"""),
            "flattened column by column (transposed pictures)": _predict("""
    device = next(model.parameters()).device
    X = images.transpose(1, 2).reshape(len(images), 64).float().to(device) / 16
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=1)
"""),
            "forgot model.eval()": _predict("""
    device = next(model.parameters()).device
    X = images.reshape(len(images), 64).float().to(device) / 16
    with torch.inference_mode():
        return model(X).argmax(dim=1)
"""),
            "images not moved to the model's device": _predict("""
    X = images.reshape(len(images), 64).float() / 16
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=1)
"""),
            "labels brought back to the CPU": _predict("""
    device = next(model.parameters()).device
    X = images.reshape(len(images), 64).float().to(device) / 16
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=1).cpu()
"""),
            "argmax over the wrong dimension": _predict("""
    device = next(model.parameters()).device
    X = images.reshape(len(images), 64).float().to(device) / 16
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=0)
"""),
            "view (fails on images that are not contiguous)": _predict("""
    device = next(model.parameters()).device
    X = images.view(len(images), 64).float().to(device) / 16
    model.eval()
    with torch.inference_mode():
        return model(X).argmax(dim=1)
"""),
            "gradient tracking left on": _predict("""
    device = next(model.parameters()).device
    X = images.reshape(len(images), 64).float().to(device) / 16
    model.eval()
    return model(X).argmax(dim=1)
"""),
            "scales the images in place": _predict("""
    device = next(model.parameters()).device
    images = images.float()
    X = images.reshape(len(images), 64)
    X /= 16
    model.eval()
    with torch.inference_mode():
        return model(X.to(device)).argmax(dim=1)
"""),
        },
        "right": {
            "flatten, no_grad and logits_to_predictions": _predict("""
    model.eval()
    X = images.flatten(start_dim=1).to(torch.float32).div(16)
    X = X.to(next(model.parameters()).device)
    with torch.no_grad():
        _, labels = logits_to_predictions(model(X))
    return labels
"""),
            "reshape after a float copy, device read from a parameter": _predict("""
    weight = next(iter(model.parameters()))
    X = (images.to(torch.float32) / 16.0).reshape(-1, 64).to(weight.device)
    model.eval()
    with torch.inference_mode():
        logits = model(X)
    return torch.argmax(logits, dim=1)
"""),
        },
    },
}
