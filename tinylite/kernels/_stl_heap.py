"""libstdc++'s heap algorithms (std::push_heap / std::pop_heap, as
std::priority_queue runs them), so that kernels built on a priority queue
pop equal keys in the order LiteRT does."""


def _push(heap, hole, top, value, less):
    parent = (hole - 1) // 2
    while hole > top and less(heap[parent], value):
        heap[hole] = heap[parent]
        hole = parent
        parent = (hole - 1) // 2
    heap[hole] = value


def _adjust(heap, hole, length, value, less):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(heap[child], heap[child - 1]):
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _push(heap, hole, top, value, less)


def partial_sort(items, k, less):
    """The first k of `items` as libstdc++'s std::partial_sort(first, first + k, last, less)
    leaves them: its heap select, then its heap sort (equal keys in its own order)."""
    heap = list(items[:k])
    if k <= 0:
        return heap
    for parent in range((k - 2) // 2, -1, -1):          # std::make_heap
        _adjust(heap, parent, k, heap[parent], less)
    for x in items[k:]:
        if less(x, heap[0]):
            _adjust(heap, 0, k, x, less)
    for last in range(k - 1, 0, -1):                     # std::sort_heap
        value = heap[last]
        heap[last] = heap[0]
        _adjust(heap, 0, last, value, less)
    return heap


class PriorityQueue:
    """std::priority_queue with comparator `less(a, b)` (the top is a maximum)."""

    def __init__(self, less):
        self.heap = []
        self.less = less

    def __len__(self):
        return len(self.heap)

    def push(self, value):
        self.heap.append(value)
        _push(self.heap, len(self.heap) - 1, 0, value, self.less)

    def top(self):
        return self.heap[0]

    def pop(self):
        heap = self.heap
        last = len(heap) - 1
        value = heap[last]
        heap[last] = heap[0]
        if last > 0:
            _adjust(heap, 0, last, value, self.less)
        heap.pop()
