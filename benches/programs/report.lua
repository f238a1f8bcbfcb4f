-- report: the same algorithm as report.ark.
local names = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
-- Products stay below 2^53: Luau's numbers are doubles.
local seed = 7
local page = ""
local pages = 0
local checksum = 0
for i = 0, 299999 do
  seed = (seed * 16807) % 2147483647
  local name = names[seed % 8 + 1]
  local value = (seed // 8) % 1000
  page = page .. name .. ": " .. tostring(value) .. "; "
  if #page > 1000 then
    checksum = (checksum * 31 + #page + #string.sub(page, 1, 6)) % 1000000007
    pages = pages + 1
    page = ""
  end
end
print(pages .. " " .. checksum .. " " .. #page)
