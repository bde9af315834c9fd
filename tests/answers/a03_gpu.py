"""Answer variants for 03-gpu: plausible wrong answers (must lose points) and alternative right
answers (must earn full points), per question. Each entry replaces the question's answer cell."""

VARIANTS = {
    "q1": {
        "wrong": {
            "MPS when it is built, not when it is available": '''
def get_device():
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_built():
        return torch.device("mps")
    return torch.device("cpu")
''',
            "returns strings, not torch.device": '''
def get_device():
    if torch.cuda.is_available():
        return "cuda"
    elif torch.backends.mps.is_available():
        return "mps"
    else:
        return "cpu"
''',
            "always cpu": '''
def get_device():
    return torch.device("cpu")
''',
            "ignores MPS": '''
def get_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
''',
            "MPS before CUDA": '''
def get_device():
    if torch.backends.mps.is_available():
        return torch.device("mps")
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
''',
            "is_available without parentheses": '''
def get_device():
    if torch.cuda.is_available:
        return torch.device("cuda")
    if torch.backends.mps.is_available:
        return torch.device("mps")
    return torch.device("cpu")
''',
            "decided once when the cell runs": '''
DEVICE = torch.device(
    "cuda" if torch.cuda.is_available()
    else "mps" if torch.backends.mps.is_available()
    else "cpu"
)

def get_device():
    return DEVICE
''',
        },
        "right": {
            "conditional expression, cuda:0": '''
def get_device():
    name = ("cuda:0" if torch.cuda.is_available()
            else "mps" if torch.backends.mps.is_available()
            else "cpu")
    return torch.device(name)
''',
        },
    },
    "q2": {
        "wrong": {
            "forgot to keep the result of .to": '''
def to_device(t, device):
    t.to(device)
    return t
''',
            "always moves to the cpu": '''
def to_device(t, device):
    return t.cpu()
''',
            "hard-coded cuda": '''
def to_device(t, device):
    return t.to("cuda")
''',
            "rebuilds from a list (loses the dtype)": '''
def to_device(t, device):
    return torch.tensor(t.tolist(), device=device)
''',
            "no return": '''
def to_device(t, device):
    t = t.to(device)
''',
        },
        "right": {
            "keyword device, torch.device": '''
def to_device(t, device):
    moved = t.to(device=torch.device(device))
    return moved
''',
            "as_tensor": '''
def to_device(t, device):
    return torch.as_tensor(t, device=device)
''',
        },
    },
    "q3": {
        "wrong": {
            "moves the model without its weights (to_empty)": '''
def move_model(model, device):
    return model.to_empty(device=device)
''',
            "forgot to return the model": '''
def move_model(model, device):
    model.to(device)
''',
            "moves each parameter without keeping the result": '''
def move_model(model, device):
    for p in model.parameters():
        p.to(device)
    return model
''',
            "moves only the parameters' data, not the buffers": '''
def move_model(model, device):
    for p in model.parameters():
        p.data = p.data.to(device)
    return model
''',
            "always moves to the cpu": '''
def move_model(model, device):
    return model.cpu()
''',
            "returns a state_dict instead of the model": '''
def move_model(model, device):
    return {k: v.to(device) for k, v in model.state_dict().items()}
''',
        },
        "right": {
            "return model.to(device)": '''
def move_model(model, device):
    return model.to(device)
''',
            "in-place then return": '''
def move_model(model, device):
    model.to(torch.device(device))
    return model
''',
        },
    },
    "q4": {
        "wrong": {
            "numpy() directly": '''
def to_numpy(t):
    return t.numpy()
''',
            "forgot to detach": '''
def to_numpy(t):
    return t.cpu().numpy()
''',
            "forgot .cpu() (works only on the CPU)": '''
def to_numpy(t):
    return t.detach().numpy()
''',
            "returns a list": '''
def to_numpy(t):
    return t.detach().cpu().tolist()
''',
            "np.array of a list (loses the dtype)": '''
def to_numpy(t):
    return np.array(t.detach().cpu().tolist())
''',
            "returns the detached tensor": '''
def to_numpy(t):
    return t.detach().cpu()
''',
        },
        "right": {
            "cpu then detach": '''
def to_numpy(t):
    return t.cpu().detach().numpy()
''',
            "numpy(force=True)": '''
def to_numpy(t):
    return t.numpy(force=True)
''',
            "np.asarray of a tensor moved with .to": '''
def to_numpy(t):
    return np.asarray(t.detach().to("cpu"))
''',
            "checks the device first": '''
def to_numpy(t):
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    return t.numpy()
''',
        },
    },
    "q5": {
        "wrong": {
            "forgets to move x": '''
def predict(model, x):
    return model(x)
''',
            "forgot to keep the result of x.to": '''
def predict(model, x):
    device = next(model.parameters()).device
    x.to(device)
    return model(x)
''',
            "moves x to get_device() instead of the model's device": '''
def predict(model, x):
    return model(x.to(torch.device("cuda" if torch.cuda.is_available() else "cpu")))
''',
            "moves the model to x's device": '''
def predict(model, x):
    model = model.to(x.device)
    return model(x)
''',
            "brings the output back to the cpu": '''
def predict(model, x):
    device = next(model.parameters()).device
    return model(x.to(device)).cpu()
''',
        },
        "right": {
            "without no_grad": '''
def predict(model, x):
    device = next(model.parameters()).device
    x = x.to(device)
    return model(x)
''',
            "list of parameters, eval and inference_mode": '''
def predict(model, x):
    params = list(model.parameters())
    model.eval()
    with torch.inference_mode():
        out = model(x.to(params[0].device))
    return out
''',
        },
    },
    "q6": {
        "wrong": {
            "the original buggy code": '''
def normalize_images(images):
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    return (images - mean) / std
''',
            "forgot to keep the result of .to": '''
def normalize_images(images):
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    mean.to(images.device)
    std.to(images.device)
    return (images - mean) / std
''',
            "moves the images to the cpu": '''
def normalize_images(images):
    images = images.cpu()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    return (images - mean) / std
''',
            "hard-coded cuda constants": '''
def normalize_images(images):
    mean = torch.tensor([0.485, 0.456, 0.406], device="cuda").view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device="cuda").view(3, 1, 1)
    return (images - mean) / std
''',
            "constants on the 'best' device, not the images' device": '''
def normalize_images(images):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(3, 1, 1)
    return (images - mean) / std
''',
            "normalises in place": '''
def normalize_images(images):
    mean = torch.tensor([0.485, 0.456, 0.406], device=images.device).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=images.device).view(3, 1, 1)
    images -= mean
    images /= std
    return images
''',
        },
        "right": {
            "moves the constants with .to": '''
def normalize_images(images):
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    mean = mean.to(images.device)
    std = std.to(images.device)
    return (images - mean) / std
''',
            "new_tensor and reshape": '''
def normalize_images(images):
    mean = images.new_tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
    std = images.new_tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    return (images - mean) / std
''',
        },
    },
    "q7": {
        "wrong": {
            "no map_location": '''
def load_checkpoint(path, device):
    return torch.load(path)
''',
            "map_location hard-coded to cpu": '''
def load_checkpoint(path, device):
    return torch.load(path, map_location="cpu")
''',
            "loads, then moves each tensor": '''
def load_checkpoint(path, device):
    state = torch.load(path)
    return {key: value.to(device) for key, value in state.items()}
''',
            "calls .to on the dictionary": '''
def load_checkpoint(path, device):
    return torch.load(path).to(device)
''',
        },
        "right": {
            "torch.device and weights_only": '''
def load_checkpoint(path, device):
    return torch.load(path, map_location=torch.device(device), weights_only=True)
''',
            "open file, map to cpu only when needed": '''
def load_checkpoint(path, device):
    with open(path, "rb") as f:
        state = torch.load(f, map_location=device)
    return state
''',
        },
    },
    "q8": {
        "wrong": {
            "moves the inputs without keeping the result": '''
def time_matmul(a, b, device, repeats):
    a.to(device)
    b.to(device)
    a @ b
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
''',
            "synchronises whenever CUDA is available": '''
def time_matmul(a, b, device, repeats):
    a = a.to(device)
    b = b.to(device)
    a @ b
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
''',
            "compares the device string with \"cuda\" (misses cuda:0)": '''
def time_matmul(a, b, device, repeats):
    a = a.to(device)
    b = b.to(device)
    a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
''',
            "no warm-up": '''
def time_matmul(a, b, device, repeats):
    on_cuda = torch.device(device).type == "cuda"
    a, b = a.to(device), b.to(device)
    if on_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if on_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
''',
            "total time, not per run": '''
def time_matmul(a, b, device, repeats):
    on_cuda = torch.device(device).type == "cuda"
    a, b = a.to(device), b.to(device)
    a @ b
    if on_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if on_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start
''',
            "warm-up inside the timed region": '''
def time_matmul(a, b, device, repeats):
    on_cuda = torch.device(device).type == "cuda"
    a, b = a.to(device), b.to(device)
    start = time.perf_counter()
    a @ b
    if on_cuda:
        torch.cuda.synchronize()
    for _ in range(repeats):
        a @ b
    if on_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
''',
            "always synchronises": '''
def time_matmul(a, b, device, repeats):
    a, b = a.to(device), b.to(device)
    a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
''',
            "never synchronises": '''
def time_matmul(a, b, device, repeats):
    a, b = a.to(device), b.to(device)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return (time.perf_counter() - start) / repeats
''',
            "stops the clock before synchronising": '''
def time_matmul(a, b, device, repeats):
    on_cuda = torch.device(device).type == "cuda"
    a, b = a.to(device), b.to(device)
    a @ b
    if on_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    elapsed = time.perf_counter() - start
    if on_cuda:
        torch.cuda.synchronize()
    return elapsed / repeats
''',
            "uses time.time instead of perf_counter": '''
def time_matmul(a, b, device, repeats):
    on_cuda = torch.device(device).type == "cuda"
    a, b = a.to(device), b.to(device)
    a @ b
    if on_cuda:
        torch.cuda.synchronize()
    start = time.time()
    for _ in range(repeats):
        a @ b
    if on_cuda:
        torch.cuda.synchronize()
    return (time.time() - start) / repeats
''',
        },
        "right": {
            "per-run clock readings, from-import perf_counter, torch.matmul": '''
from time import perf_counter

def time_matmul(a, b, device, repeats):
    dev = torch.device(device)
    a = a.to(dev)
    b = b.to(dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    for _ in range(2):
        torch.matmul(a, b)
    sync()
    total = 0.0
    for _ in range(repeats):
        t0 = perf_counter()
        torch.matmul(a, b)
        sync()
        total += perf_counter() - t0
    return total / repeats
''',
            "string check on the device, list of results": '''
def time_matmul(a, b, device, repeats):
    a = a.to(device)
    b = b.to(device)
    _ = a.matmul(b)
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    results = [a @ b for _ in range(repeats)]
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    stop = time.perf_counter()
    return float((stop - start) / repeats)
''',
        },
    },
    "q9": {
        "wrong": {
            "hard-coded GPU seed after torch.manual_seed": '''
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(0)
''',
            "seeds only the GPUs": '''
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.cuda.manual_seed_all(seed)
''',
            "hard-coded seed 42": '''
def seed_everything(seed):
    random.seed(42)
    np.random.seed(42)
    torch.manual_seed(42)
    torch.cuda.manual_seed_all(42)
''',
            "torch only, forgets NumPy and Python": '''
def seed_everything(seed):
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
''',
            "torch.seed() (a random seed)": '''
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.seed()
    torch.cuda.seed_all()
''',
            "NumPy and Python only": '''
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
''',
        },
        "right": {
            "torch.manual_seed alone seeds the GPUs too": '''
def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
''',
            "torch.random and a NumPy seed call, in another order": '''
def seed_everything(seed: int) -> None:
    torch.cuda.manual_seed_all(seed)
    torch.random.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
''',
        },
    },
}
