import csv, sys, statistics as st
def stats(path, cols):
    with open(path, encoding='utf-8-sig', newline='') as f:
        raw = f.read()
    lines = raw.split('\n')
    r = list(csv.reader(raw.splitlines(True)[0:1]))
    rows = list(csv.DictReader(open(path, encoding='utf-8-sig', newline='')))
    hdr_len = len(raw.splitlines(True)[0].encode())
    body = len(raw.encode('utf-8')) - hdr_len
    print(path, len(rows), 'rows', 'bytes/row %.0f' % (body/len(rows)))
    lower = {k.lower(): k for k in rows[0].keys()}
    for c in cols:
        k = lower.get(c.lower())
        if not k: print('  ', c, 'missing'); continue
        vals = [r[k] for r in rows]
        ne = [v for v in vals if v]
        print('   %-20s nonempty %3.0f%%  avg len(nonempty) %.0f  max %d  avg overall %.1f' % (c, 100*len(ne)/len(vals), (sum(map(len,ne))/len(ne)) if ne else 0, max(map(len,vals)), sum(map(len,vals))/len(vals)))
cols = ['AdditionalInfo','Tags','ResourceId','ResourceName','ResourceGroup','ResourceGroupName','ProductName','Product','MeterName','SubscriptionName','InstanceName','ProductOrderName','MeterCategory','MeterSubCategory','benefitName','benefitId','ReservationName','AccountName','AccountOwnerId']
for p in sys.argv[1:]:
    stats(p, cols)
