local function quicksort(a, lo, hi)
  while lo < hi do
    local pivot = a[(lo + hi) // 2]
    local i, j = lo, hi
    while i <= j do
      while a[i] < pivot do i = i + 1 end
      while a[j] > pivot do j = j - 1 end
      if i <= j then
        a[i], a[j] = a[j], a[i]
        i = i + 1; j = j - 1
      end
    end
    if j - lo < hi - i then
      quicksort(a, lo, j)
      lo = i
    else
      quicksort(a, i, hi)
      hi = j
    end
  end
end
local n = 200000
local a = {}
local seed = 1
for i = 0, n - 1 do
  seed = (seed * 16807) % 2147483647
  a[i] = seed % 1000000
end
quicksort(a, 0, n - 1)
local ok = true
for i = 1, n - 1 do if a[i - 1] > a[i] then ok = false end end
local checksum = 0
for i = 0, n - 1 do checksum = (checksum * 31 + a[i]) % 1000000007 end
print(tostring(ok) .. " " .. checksum)
