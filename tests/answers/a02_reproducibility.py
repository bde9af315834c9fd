"""Answer variants for assignments/02-reproducibility (see README.md in this folder)."""

VARIANTS = {
    "q1": {
        "wrong": {
            "re-seeded between the draws": (
                "torch.manual_seed(7)\n"
                "first = torch.rand(3)\n"
                "torch.manual_seed(7)\n"
                "second = torch.rand(3)\n"
            ),
            "forgot the seed": "first = torch.rand(3)\nsecond = torch.rand(3)\n",
            "wrong seed": "torch.manual_seed(42)\nfirst = torch.rand(3)\nsecond = torch.rand(3)\n",
            "seeded after the first draw": (
                "first = torch.rand(3)\n"
                "torch.manual_seed(7)\n"
                "second = torch.rand(3)\n"
            ),
            "randn instead of rand": (
                "torch.manual_seed(7)\nfirst = torch.randn(3)\nsecond = torch.randn(3)\n"
            ),
        },
        "right": {
            "one rand(6) split in two": (
                "torch.manual_seed(7)\n"
                "both = torch.rand(6)\n"
                "first, second = both[:3], both[3:]\n"
            ),
            "torch.random.manual_seed": (
                "SEED = 7\n"
                "torch.random.manual_seed(SEED)\n"
                "first = torch.rand(3)\n"
                "second = torch.rand(3)\n"
            ),
        },
    },
    "q2": {
        "wrong": {
            "seeded only once": (
                "torch.manual_seed(42)\n"
                "tensor_a = torch.rand(3, 4)\n"
                "tensor_b = torch.rand(3, 4)\n"
            ),
            "same object, not a second draw": (
                "torch.manual_seed(42)\n"
                "tensor_a = torch.rand(3, 4)\n"
                "tensor_b = tensor_a\n"
            ),
            "wrong seed": (
                "torch.manual_seed(0)\n"
                "tensor_a = torch.rand(3, 4)\n"
                "torch.manual_seed(0)\n"
                "tensor_b = torch.rand(3, 4)\n"
            ),
            "transposed shape": (
                "torch.manual_seed(42)\n"
                "tensor_a = torch.rand(4, 3)\n"
                "torch.manual_seed(42)\n"
                "tensor_b = torch.rand(4, 3)\n"
            ),
            "float64 draws": (
                "torch.manual_seed(42)\n"
                "tensor_a = torch.rand(3, 4, dtype=torch.float64)\n"
                "torch.manual_seed(42)\n"
                "tensor_b = torch.rand(3, 4, dtype=torch.float64)\n"
            ),
        },
        "right": {
            "seed in a variable, in a loop": (
                "RANDOM_SEED = 42\n"
                "draws = []\n"
                "for _ in range(2):\n"
                "    torch.manual_seed(RANDOM_SEED)\n"
                "    draws.append(torch.rand(3, 4))\n"
                "tensor_a, tensor_b = draws\n"
            ),
            "torch.random.manual_seed and rand with size=": (
                "torch.random.manual_seed(42)\n"
                "tensor_a = torch.rand(size=(3, 4))\n"
                "torch.random.manual_seed(42)\n"
                "tensor_b = torch.rand(size=(3, 4))\n"
            ),
        },
    },
    "q3": {
        "wrong": {
            "re-seeds the global state": (
                "def sample_noise(seed, n):\n"
                "    torch.manual_seed(seed)\n"
                "    return torch.randn(n)\n"
            ),
            "generator made but not passed": (
                "def sample_noise(seed, n):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return torch.randn(n)\n"
            ),
            "one shared generator, seeded once": (
                "g = torch.Generator().manual_seed(0)\n"
                "def sample_noise(seed, n):\n"
                "    return torch.randn(n, generator=g)\n"
            ),
            "generator never seeded": (
                "def sample_noise(seed, n):\n"
                "    return torch.randn(n, generator=torch.Generator())\n"
            ),
            "rand instead of randn": (
                "def sample_noise(seed, n):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return torch.rand(n, generator=g)\n"
            ),
            "global seed inside fork_rng (the prompt rules out torch.manual_seed)": (
                "def sample_noise(seed, n):\n"
                "    with torch.random.fork_rng(devices=[]):\n"
                "        torch.manual_seed(seed)\n"
                "        return torch.randn(n)\n"
            ),
        },
        "right": {
            "generator seeded on its own line": (
                "def sample_noise(seed, n):\n"
                "    g = torch.Generator(device='cpu')\n"
                "    g.manual_seed(seed)\n"
                "    return torch.randn((n,), generator=g)\n"
            ),
            "normal_ with a generator": (
                "def sample_noise(seed, n):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return torch.empty(n).normal_(generator=g)\n"
            ),
        },
    },
    "q4": {
        "wrong": {
            "only torch": "def set_seed(seed):\n    torch.manual_seed(seed)\n",
            "forgot Python's random": (
                "def set_seed(seed):\n"
                "    np.random.seed(seed)\n"
                "    torch.manual_seed(seed)\n"
            ),
            "default_rng does not seed np.random": (
                "def set_seed(seed):\n"
                "    random.seed(seed)\n"
                "    rng = np.random.default_rng(seed)\n"
                "    torch.manual_seed(seed)\n"
            ),
            "fixed seed instead of the argument": (
                "def set_seed(seed):\n"
                "    random.seed(42)\n"
                "    np.random.seed(42)\n"
                "    torch.manual_seed(42)\n"
            ),
            "forgot torch": (
                "def set_seed(seed):\n"
                "    random.seed(seed)\n"
                "    np.random.seed(seed)\n"
            ),
        },
        "right": {
            "other order, CUDA too": (
                "def set_seed(seed):\n"
                "    torch.manual_seed(seed)\n"
                "    torch.cuda.manual_seed_all(seed)\n"
                "    np.random.seed(seed)\n"
                "    random.seed(seed)\n"
            ),
            "module imports inside": (
                "def set_seed(seed: int) -> None:\n"
                "    import random as py_random\n"
                "    import numpy\n"
                "    py_random.seed(seed)\n"
                "    numpy.random.seed(seed)\n"
                "    torch.random.manual_seed(seed)\n"
            ),
        },
    },
    "q5": {
        "wrong": {
            "seeds the global state inside the function": (
                "def split_indices(n, test_fraction, seed):\n"
                "    torch.manual_seed(seed)\n"
                "    perm = torch.randperm(n)\n"
                "    n_test = int(n * test_fraction)\n"
                "    return (perm[n_test:], perm[:n_test])\n"
            ),
            "global randperm, no seed": (
                "def split_indices(n, test_fraction, seed):\n"
                "    perm = torch.randperm(n)\n"
                "    n_test = int(n * test_fraction)\n"
                "    return perm[n_test:], perm[:n_test]\n"
            ),
            "one generator seeded once, outside": (
                "g = torch.Generator().manual_seed(0)\n"
                "def split_indices(n, test_fraction, seed):\n"
                "    perm = torch.randperm(n, generator=g)\n"
                "    n_test = int(n * test_fraction)\n"
                "    return perm[n_test:], perm[:n_test]\n"
            ),
            "randint: indices can repeat": (
                "def split_indices(n, test_fraction, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    n_test = int(n * test_fraction)\n"
                "    test_idx = torch.randint(0, n, (n_test,), generator=g)\n"
                "    train_idx = torch.randint(0, n, (n - n_test,), generator=g)\n"
                "    return train_idx, test_idx\n"
            ),
            "not shuffled": (
                "def split_indices(n, test_fraction, seed):\n"
                "    idx = torch.arange(n)\n"
                "    n_test = int(n * test_fraction)\n"
                "    return idx[: n - n_test], idx[n - n_test:]\n"
            ),
            "rounds the test size": (
                "def split_indices(n, test_fraction, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    perm = torch.randperm(n, generator=g)\n"
                "    n_test = round(n * test_fraction)\n"
                "    return perm[n_test:], perm[:n_test]\n"
            ),
            "returns (test, train)": (
                "def split_indices(n, test_fraction, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    perm = torch.randperm(n, generator=g)\n"
                "    n_test = int(n * test_fraction)\n"
                "    return perm[:n_test], perm[n_test:]\n"
            ),
            "ignores the seed": (
                "def split_indices(n, test_fraction, seed):\n"
                "    g = torch.Generator().manual_seed(42)\n"
                "    perm = torch.randperm(n, generator=g)\n"
                "    n_test = int(n * test_fraction)\n"
                "    return perm[n_test:], perm[:n_test]\n"
            ),
        },
        "right": {
            "numpy default_rng permutation": (
                "def split_indices(n, test_fraction, seed):\n"
                "    rng = np.random.default_rng(seed)\n"
                "    perm = torch.from_numpy(rng.permutation(n)).long()\n"
                "    n_test = int(n * test_fraction)\n"
                "    return perm[: n - n_test], perm[n - n_test:]\n"
            ),
            "sorted parts, test taken from the end": (
                "def split_indices(n, test_fraction, seed):\n"
                "    g = torch.Generator()\n"
                "    g.manual_seed(seed)\n"
                "    perm = torch.randperm(n, generator=g)\n"
                "    n_train = n - int(n * test_fraction)\n"
                "    train_idx, test_idx = perm.split([n_train, n - n_train])\n"
                "    return train_idx.sort().values, test_idx.sort().values\n"
            ),
        },
    },
    "q6": {
        "wrong": {
            "no generator: shuffles with the global state": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() % 2**32\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,\n"
                "                      worker_init_fn=seed_worker)\n"
            ),
            "re-seeds the global state instead of a generator": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() % 2**32\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    torch.manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,\n"
                "                      worker_init_fn=seed_worker)\n"
            ),
            "forgot worker_init_fn": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() % 2**32\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,\n"
                "                      generator=g)\n"
            ),
            "modulo 2**31 instead of 2**32": '''
def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**31
    np.random.seed(worker_seed)
    random.seed(worker_seed)

def make_loader(dataset, seed):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,
                      worker_init_fn=seed_worker, generator=generator)
''',
            "no modulo 2**32: NumPy rejects the seed": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed()\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,\n"
                "                      worker_init_fn=seed_worker, generator=g)\n"
            ),
            "seeds workers with worker_id": (
                "def seed_worker(worker_id):\n"
                "    np.random.seed(worker_id)\n"
                "    random.seed(worker_id)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,\n"
                "                      worker_init_fn=seed_worker, generator=g)\n"
            ),
            "generator never seeded": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() % 2**32\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2,\n"
                "                      worker_init_fn=seed_worker, generator=torch.Generator())\n"
            ),
            "no workers": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() % 2**32\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=4, shuffle=True, num_workers=0,\n"
                "                      worker_init_fn=seed_worker, generator=g)\n"
            ),
            "forgot shuffle=True": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() % 2**32\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return DataLoader(dataset, batch_size=4, num_workers=2,\n"
                "                      worker_init_fn=seed_worker, generator=g)\n"
            ),
        },
        "right": {
            "bit mask and keyword order": (
                "def seed_worker(worker_id):\n"
                "    worker_seed = torch.initial_seed() & 0xFFFFFFFF\n"
                "    random.seed(worker_seed)\n"
                "    np.random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    return DataLoader(\n"
                "        dataset,\n"
                "        generator=torch.Generator().manual_seed(seed),\n"
                "        worker_init_fn=seed_worker,\n"
                "        num_workers=2,\n"
                "        shuffle=True,\n"
                "        batch_size=4,\n"
                "    )\n"
            ),
            "explicit RandomSampler with the generator": (
                "from torch.utils.data import RandomSampler\n"
                "\n"
                "def seed_worker(worker_id):\n"
                "    worker_seed = int(torch.initial_seed() % (2 ** 32))\n"
                "    np.random.seed(worker_seed)\n"
                "    random.seed(worker_seed)\n"
                "\n"
                "def make_loader(dataset, seed):\n"
                "    g = torch.Generator()\n"
                "    g.manual_seed(seed)\n"
                "    sampler = RandomSampler(dataset, generator=g)\n"
                "    return DataLoader(dataset, batch_size=4, sampler=sampler, num_workers=2,\n"
                "                      worker_init_fn=seed_worker, generator=g)\n"
            ),
        },
    },
    "q7": {
        "wrong": {
            "forgot the seed": (
                "def make_model(seed):\n"
                "    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
            ),
            "seeded after building the model": (
                "def make_model(seed):\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
                "    torch.manual_seed(seed)\n"
                "    return model\n"
            ),
            "fixed seed instead of the argument": (
                "def make_model(seed):\n"
                "    torch.manual_seed(42)\n"
                "    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
            ),
            "a generator that the layers never use": (
                "def make_model(seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
            ),
            "wrong hidden size": (
                "def make_model(seed):\n"
                "    torch.manual_seed(seed)\n"
                "    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))\n"
            ),
            "layers built before the seed": (
                "def make_model(seed):\n"
                "    first, last = nn.Linear(4, 8), nn.Linear(8, 3)\n"
                "    torch.manual_seed(seed)\n"
                "    return nn.Sequential(first, nn.ReLU(), last)\n"
            ),
        },
        "right": {
            "layers in variables": (
                "def make_model(seed):\n"
                "    torch.random.manual_seed(seed)\n"
                "    hidden = nn.Linear(in_features=4, out_features=8)\n"
                "    output = nn.Linear(in_features=8, out_features=3)\n"
                "    return nn.Sequential(hidden, nn.ReLU(), output)\n"
            ),
            "fork_rng keeps the global state": (
                "def make_model(seed):\n"
                "    with torch.random.fork_rng(devices=[]):\n"
                "        torch.manual_seed(seed)\n"
                "        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
                "    return model\n"
            ),
        },
    },
    "q8": {
        "wrong": {
            "not seeded": (
                "def train_model(seed):\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        batch = torch.randperm(len(X_train))[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
            "seeded after building the model": (
                "def train_model(seed):\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    torch.manual_seed(seed)\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        batch = torch.randperm(len(X_train))[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
            "seeded inside the loop": (
                "def train_model(seed):\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        torch.manual_seed(seed)\n"
                "        batch = torch.randperm(len(X_train))[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
            "a generator for the batches only": (
                "def train_model(seed):\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        batch = torch.randperm(len(X_train), generator=g)[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
            "fixed seed instead of the argument": (
                "def train_model(seed):\n"
                "    torch.manual_seed(42)\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        batch = torch.randperm(len(X_train))[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
            "seeds NumPy instead of torch": (
                "def train_model(seed):\n"
                "    np.random.seed(seed)\n"
                "    random.seed(seed)\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        batch = torch.randperm(len(X_train))[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
        },
        "right": {
            "seeds every library, torch.random.manual_seed": (
                "def train_model(seed):\n"
                "    random.seed(seed)\n"
                "    np.random.seed(seed)\n"
                "    torch.random.manual_seed(seed)\n"
                "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                          nn.Linear(8, 1))\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "    loss_fn = nn.MSELoss()\n"
                "    model.train()\n"
                "    for step in range(25):\n"
                "        batch = torch.randperm(len(X_train))[:16]\n"
                "        loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "    return model\n"
            ),
            "whole run inside fork_rng": (
                "def train_model(seed):\n"
                "    with torch.random.fork_rng(devices=[]):\n"
                "        torch.manual_seed(seed)\n"
                "        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.25),\n"
                "                              nn.Linear(8, 1))\n"
                "        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                "        loss_fn = nn.MSELoss()\n"
                "        model.train()\n"
                "        for step in range(25):\n"
                "            batch = torch.randperm(len(X_train))[:16]\n"
                "            loss = loss_fn(model(X_train[batch]), y_train[batch])\n"
                "            optimizer.zero_grad()\n"
                "            loss.backward()\n"
                "            optimizer.step()\n"
                "    return model\n"
            ),
        },
    },
    "q9": {
        "wrong": {
            "warn_only=True": (
                "def enable_deterministic_mode():\n"
                "    torch.use_deterministic_algorithms(True, warn_only=True)\n"
            ),
            "only reads the setting": (
                "def enable_deterministic_mode():\n"
                "    return torch.are_deterministic_algorithms_enabled()\n"
            ),
            "debug mode 'warn'": (
                "def enable_deterministic_mode():\n"
                "    torch.set_deterministic_debug_mode('warn')\n"
            ),
            "cuDNN flag instead": (
                "def enable_deterministic_mode():\n"
                "    torch.backends.cudnn.deterministic = True\n"
            ),
            "turns it off": (
                "def enable_deterministic_mode():\n"
                "    torch.use_deterministic_algorithms(False)\n"
            ),
        },
        "right": {
            "debug mode 'error'": (
                "def enable_deterministic_mode():\n"
                "    torch.set_deterministic_debug_mode('error')\n"
            ),
            "keywords spelled out": (
                "def enable_deterministic_mode():\n"
                "    torch.use_deterministic_algorithms(mode=True, warn_only=False)\n"
                "    return None\n"
            ),
        },
    },
    "q10": {
        "wrong": {
            "benchmark left on": (
                "def configure_cudnn():\n"
                "    torch.backends.cudnn.deterministic = True\n"
                "    torch.backends.cudnn.benchmark = True\n"
            ),
            "only benchmark": (
                "def configure_cudnn():\n"
                "    torch.backends.cudnn.benchmark = False\n"
            ),
            "only deterministic": (
                "def configure_cudnn():\n"
                "    torch.backends.cudnn.deterministic = True\n"
            ),
            "compares instead of assigning": (
                "def configure_cudnn():\n"
                "    torch.backends.cudnn.deterministic == True\n"
                "    torch.backends.cudnn.benchmark == False\n"
            ),
            "local variables, not the flags": (
                "def configure_cudnn():\n"
                "    deterministic = True\n"
                "    benchmark = False\n"
            ),
            "values swapped": (
                "def configure_cudnn():\n"
                "    torch.backends.cudnn.deterministic = False\n"
                "    torch.backends.cudnn.benchmark = True\n"
            ),
        },
        "right": {
            "imported module, other order": (
                "from torch.backends import cudnn\n"
                "\n"
                "def configure_cudnn():\n"
                "    cudnn.benchmark = False\n"
                "    cudnn.deterministic = True\n"
            ),
            "setattr": (
                "def configure_cudnn():\n"
                "    for flag, value in {'deterministic': True, 'benchmark': False}.items():\n"
                "        setattr(torch.backends.cudnn, flag, value)\n"
            ),
        },
    },
    "q11": {
        "wrong": {
            "two draws of 8 (the trap)": (
                "torch.manual_seed(0)\n"
                "first_half = torch.randn(8)\n"
                "second_half = torch.randn(8)\n"
            ),
            "re-seeded before each half": (
                "torch.manual_seed(0)\n"
                "first_half = torch.randn(8)\n"
                "torch.manual_seed(0)\n"
                "second_half = torch.randn(8)\n"
            ),
            "forgot the seed": (
                "noise = torch.randn(16)\n"
                "first_half, second_half = noise[:8], noise[8:]\n"
            ),
            "rand instead of randn": (
                "torch.manual_seed(0)\n"
                "noise = torch.rand(16)\n"
                "first_half, second_half = noise[:8], noise[8:]\n"
            ),
            "two draws of 8, concatenated": (
                "torch.manual_seed(0)\n"
                "noise = torch.cat([torch.randn(8), torch.randn(8)])\n"
                "first_half, second_half = noise[:8], noise[8:]\n"
            ),
        },
        "right": {
            "randn(2, 8) and unbind": (
                "torch.manual_seed(0)\n"
                "first_half, second_half = torch.randn(2, 8).unbind(0)\n"
            ),
            "chunk": (
                "torch.manual_seed(0)\n"
                "first_half, second_half = torch.randn(16).chunk(2)\n"
            ),
        },
    },
}
