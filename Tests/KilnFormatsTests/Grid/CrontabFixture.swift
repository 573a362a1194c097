/// A grid-era tool's crontab, of the kinds users had (`crontab -l` on a Toolforge bastion, 2022):
/// jsub with and without -once, jstart watchdogs, -cwd after a cd, resources, /dev/null logs, and
/// the lines no converter can take. The line numbers are in the tests' expectations.
enum CrontabFixture {
    static let text = """
        # m h  dom mon dow   command
        MAILTO=maintainer@example.org
        PATH=/usr/local/bin:/usr/bin:/bin:/data/project/mytool/bin

        */10 * * * * jsub -N updater -once -quiet -mem 1g -o ~/logs/updater.out -j y python3 bot.py --update
        0 3 * * * /usr/bin/jsub -once -quiet -N nightly -mem 500m -o $HOME/nightly.out -e $HOME/nightly.err -l release=buster ./nightly.sh
        @daily jsub -quiet -cwd -N Cleanup_Job php cleanup.php >/dev/null 2>&1
        15 */2 * * 1-5 cd $HOME/reports && jsub -quiet -cwd -N reports -l h_vmem=2g,h_rt=2:00:00 ./make-report.sh --all
        */5 * * * * jstart -N irc-bot -mem 256m python3 ~/irc/bot.py
        */7 * * * * jstart -N irc-bot -mem 256m python3 ~/irc/bot.py
        30 4 * * 0 jsub -N weekly -o /dev/null -e /dev/null ./weekly.sh
        0 * * * * /data/project/mytool/bin/stats.sh
        @reboot jsub -N onboot ./boot.sh
        MAILTO=""
        45 5 1 * * jsub -N monthly -q task -b y -umask 007 -stderr ./monthly.sh
        0 12 * * * jsub -N lunch -m bea ./lunch.sh
        20 6 * * * jsub -N dated ./backup.sh $(date +%Y)
        0 0 31 2 * jsub -N never ./x.sh
        0 0 * * * jsub -N piped ./a.sh | mail someone
        61 * * * * jsub -N bad ./x.sh
        0 1 * * * jsub ./Backup.Tool.sh 'two words'
        0 2 * * * jsub -N updater ./other.sh
        not a line cron takes
        @reboot jstart -N watcher ./watch.sh
        """
}
