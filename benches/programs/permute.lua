local count = 0
local v = {}
local function swap(i, j) local t = v[i+1]; v[i+1] = v[j+1]; v[j+1] = t end
local function permute(n)
  count = count + 1
  if n ~= 0 then
    local n1 = n - 1
    permute(n1)
    for i = n1, 0, -1 do
      swap(n1, i)
      permute(n1)
      swap(n1, i)
    end
  end
end
local total = 0
for round = 0, 39 do
  count = 0
  v = {0, 0, 0, 0, 0, 0, 0}
  permute(7)
  total = total + count
end
print(total)
