namespace StepForge.Tensors;

/// <summary>
/// The order in which PyTorch's CPU topk returns its k elements, ties included. PyTorch runs the C++ standard
/// library's selection on (value, index) pairs with a strict "greater" comparison (NaN counted largest):
/// partial_sort when k * 64 &lt;= n, else nth_element at k - 1 followed by sort of the first k - 1.
/// Among equal values the result then depends on how libstdc++'s introselect, introsort and heap routines move
/// elements, so this class follows those routines step by step. Verified against torch in the golden tests.
/// </summary>
public static class TopKOrder
{
    private delegate bool Less(int a, int b);

    /// <summary>Positions (0..n-1) of the k selected values, in the order torch returns them.</summary>
    public static int[] Select(ReadOnlySpan<float> values, int k, bool largest)
    {
        int n = values.Length;
        var items = new int[n];
        for (int i = 0; i < n; i++) items[i] = i;
        var v = values.ToArray();
        bool Comp(int a, int b) => largest
            ? (float.IsNaN(v[a]) && !float.IsNaN(v[b])) || v[a] > v[b]
            : (!float.IsNaN(v[a]) && float.IsNaN(v[b])) || v[a] < v[b];
        var s = new Selection(items, Comp);
        if (k > 0)
        {
            if ((long)k * 64 <= n) s.PartialSort(0, k, n);
            else
            {
                s.NthElement(0, k - 1, n);
                s.Sort(0, k - 1);
            }
        }
        return items[..k];
    }

    /// <summary>
    /// The permutation torch's CPU sort gives with stable=False: libstdc++'s std::sort (introsort, then insertion
    /// sort) on (value, index) pairs, NaN counted largest.
    /// </summary>
    public static int[] Sort(ReadOnlySpan<float> values, bool descending)
    {
        int n = values.Length;
        var items = new int[n];
        for (int i = 0; i < n; i++) items[i] = i;
        var v = values.ToArray();
        bool Comp(int a, int b) => descending
            ? (float.IsNaN(v[a]) && !float.IsNaN(v[b])) || v[a] > v[b]
            : (!float.IsNaN(v[a]) && float.IsNaN(v[b])) || v[a] < v[b];
        new Selection(items, Comp).Sort(0, n);
        return items;
    }

    /// <summary>The permutation of a stable sort (std::stable_sort): equal values keep their input order, NaN counted largest.</summary>
    public static int[] StableSort(ReadOnlySpan<float> values, bool descending)
    {
        var v = values.ToArray();
        var items = new int[v.Length];
        for (int i = 0; i < items.Length; i++) items[i] = i;
        Array.Sort(items, (a, b) =>
        {
            float x = v[a], y = v[b];
            bool nx = float.IsNaN(x), ny = float.IsNaN(y);
            int c = nx || ny ? nx.CompareTo(ny) : x < y ? -1 : x > y ? 1 : 0;
            if (descending) c = -c;
            return c != 0 ? c : a.CompareTo(b);
        });
        return items;
    }

    /// <summary>
    /// The position of the k-th smallest value (0-based) as torch's CPU kthvalue finds it: Sedgewick's quickselect
    /// with a median-of-three pivot, moving (value, index) pairs, NaN counted largest. Among equal values the index
    /// it returns is the one this sequence of swaps leaves at k.
    /// </summary>
    public static int QuickSelect(ReadOnlySpan<float> values, int k)
    {
        var arr = values.ToArray();
        var idx = new int[arr.Length];
        for (int i = 0; i < idx.Length; i++) idx[i] = i;
        static bool Greater(float x, float y) => (float.IsNaN(x) && !float.IsNaN(y)) || x > y;
        void Swap(int i, int j)
        {
            (arr[i], arr[j]) = (arr[j], arr[i]);
            (idx[i], idx[j]) = (idx[j], idx[i]);
        }
        int left = 0, right = arr.Length - 1;
        while (right > left)
        {
            if (right == left + 1)
            {
                if (Greater(arr[left], arr[right])) Swap(left, right);
                break;
            }
            Swap((left + right) >> 1, left + 1);
            if (Greater(arr[left + 1], arr[right])) Swap(left + 1, right);
            if (Greater(arr[left], arr[right])) Swap(left, right);
            if (Greater(arr[left + 1], arr[left])) Swap(left + 1, left);
            int a = left + 1, b = right;
            float pivot = arr[left];
            while (true)
            {
                do a++; while (Greater(pivot, arr[a]));
                do b--; while (Greater(arr[b], pivot));
                if (b < a) break;
                Swap(a, b);
            }
            Swap(left, b);
            if (b <= k) left = a;
            if (b >= k) right = b - 1;
        }
        return idx[k];
    }

    private sealed class Selection(int[] a, Func<int, int, bool> less)
    {
        private const int Threshold = 16;

        private bool Comp(int i, int j) => less(a[i], a[j]);

        private void Swap(int i, int j) => (a[i], a[j]) = (a[j], a[i]);

        private static int Lg(int n) => 31 - int.LeadingZeroCount(n);

        public void NthElement(int first, int nth, int last)
        {
            if (first == last || nth == last) return;
            int depth = Lg(last - first) * 2;
            while (last - first > 3)
            {
                if (depth == 0)
                {
                    HeapSelect(first, nth + 1, last);
                    Swap(first, nth);
                    return;
                }
                depth--;
                int cut = PartitionPivot(first, last);
                if (cut <= nth) first = cut;
                else last = cut;
            }
            InsertionSort(first, last);
        }

        public void Sort(int first, int last)
        {
            if (last - first <= 0) return;
            IntrosortLoop(first, last, Lg(last - first) * 2);
            if (last - first > Threshold)
            {
                InsertionSort(first, first + Threshold);
                for (int i = first + Threshold; i < last; i++) UnguardedLinearInsert(i);
            }
            else InsertionSort(first, last);
        }

        public void PartialSort(int first, int middle, int last)
        {
            HeapSelect(first, middle, last);
            while (middle - first > 1)
            {
                middle--;
                PopHeap(first, middle, middle);
            }
        }

        private void IntrosortLoop(int first, int last, int depth)
        {
            while (last - first > Threshold)
            {
                if (depth == 0)
                {
                    PartialSort(first, last, last);
                    return;
                }
                depth--;
                int cut = PartitionPivot(first, last);
                IntrosortLoop(cut, last, depth);
                last = cut;
            }
        }

        private int PartitionPivot(int first, int last)
        {
            int mid = first + (last - first) / 2;
            MoveMedianToFirst(first, first + 1, mid, last - 1);
            return UnguardedPartition(first + 1, last, first);
        }

        private void MoveMedianToFirst(int result, int x, int y, int z)
        {
            if (Comp(x, y))
            {
                if (Comp(y, z)) Swap(result, y);
                else if (Comp(x, z)) Swap(result, z);
                else Swap(result, x);
            }
            else if (Comp(x, z)) Swap(result, x);
            else if (Comp(y, z)) Swap(result, z);
            else Swap(result, y);
        }

        private int UnguardedPartition(int first, int last, int pivot)
        {
            while (true)
            {
                while (Comp(first, pivot)) first++;
                last--;
                while (Comp(pivot, last)) last--;
                if (!(first < last)) return first;
                Swap(first, last);
                first++;
            }
        }

        private void InsertionSort(int first, int last)
        {
            if (first == last) return;
            for (int i = first + 1; i < last; i++)
            {
                if (Comp(i, first))
                {
                    int value = a[i];
                    Array.Copy(a, first, a, first + 1, i - first);
                    a[first] = value;
                }
                else UnguardedLinearInsert(i);
            }
        }

        private void UnguardedLinearInsert(int last)
        {
            int value = a[last];
            int next = last - 1;
            while (less(value, a[next]))
            {
                a[last] = a[next];
                last = next;
                next--;
            }
            a[last] = value;
        }

        private void HeapSelect(int first, int middle, int last)
        {
            MakeHeap(first, middle);
            for (int i = middle; i < last; i++)
                if (Comp(i, first)) PopHeap(first, middle, i);
        }

        private void MakeHeap(int first, int last)
        {
            int len = last - first;
            if (len < 2) return;
            for (int parent = (len - 2) / 2; ; parent--)
            {
                AdjustHeap(first, parent, len, a[first + parent]);
                if (parent == 0) return;
            }
        }

        private void PopHeap(int first, int last, int result)
        {
            int value = a[result];
            a[result] = a[first];
            AdjustHeap(first, 0, last - first, value);
        }

        private void AdjustHeap(int first, int hole, int len, int value)
        {
            int top = hole, child = hole;
            while (child < (len - 1) / 2)
            {
                child = 2 * (child + 1);
                if (Comp(first + child, first + child - 1)) child--;
                a[first + hole] = a[first + child];
                hole = child;
            }
            if ((len & 1) == 0 && child == (len - 2) / 2)
            {
                child = 2 * (child + 1);
                a[first + hole] = a[first + child - 1];
                hole = child - 1;
            }
            int parent = (hole - 1) / 2;
            while (hole > top && less(a[first + parent], value))
            {
                a[first + hole] = a[first + parent];
                hole = parent;
                parent = (hole - 1) / 2;
            }
            a[first + hole] = value;
        }
    }
}
